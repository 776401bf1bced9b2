'use strict';
// Where the reference data lives: `shared/` beside the repository (as in CI), or STANDIN_SHARED_DIR.
const fs = require('fs');
const path = require('path');

const SHARED_DIR = process.env.STANDIN_SHARED_DIR ?? path.resolve(__dirname, '../../../shared');

/** Absolute path of a file under shared/, with an error naming the path and the variable when it is missing. */
function sharedPath(...parts) {
  const file = path.join(SHARED_DIR, ...parts);
  if (!fs.existsSync(file)) {
    throw new Error(`${file}: not found — the stand-in providers read shared/ beside the repository (set STANDIN_SHARED_DIR to another copy)`);
  }
  return file;
}

/** `provider_schemas[address]` of a schema JSON under shared/providers/. */
function loadProviderSchema(relativeFile, address) {
  const file = sharedPath('providers', relativeFile);
  const schema = JSON.parse(fs.readFileSync(file, 'utf8')).provider_schemas?.[address];
  if (!schema) throw new Error(`${file}: no provider_schemas["${address}"]`);
  return schema;
}

module.exports = { sharedPath, loadProviderSchema };
