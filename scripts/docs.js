#!/usr/bin/env node
// Writes docs/sites/<site>.md for every site from the compiled library (`npm run docs`, after a build).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { renderSiteDocument } = require(path.join(root, 'lib/constructs/renderers'));
const { loadSites } = require(path.join(root, 'lib/sites'));
const outDir = process.env.DOCS_OUT ?? path.join(root, 'docs/sites');

fs.mkdirSync(outDir, { recursive: true });
for (const site of loadSites()) {
  fs.writeFileSync(path.join(outDir, `${site.name}.md`), renderSiteDocument(site));
}
console.log(`wrote ${loadSites().length} site page(s) to ${path.relative(root, outDir) || outDir}`);
