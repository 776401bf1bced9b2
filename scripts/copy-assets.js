// Copies the library's non-TypeScript assets (shell scripts read at synth time) next to the compiled modules, so
// the published package and `lib/` read them from the same relative place as the sources do.
const { cpSync, mkdirSync, readdirSync, statSync } = require('fs');
const { dirname, join, relative } = require('path');

const root = join(__dirname, '..');
const source = join(root, 'constructs');
const target = join(root, 'lib', 'constructs');

function assetDirectories(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) {
      return [];
    }
    return name === 'assets' ? [path] : assetDirectories(path);
  });
}

for (const dir of assetDirectories(source)) {
  const destination = join(target, relative(source, dir));
  mkdirSync(dirname(destination), { recursive: true });
  cpSync(dir, destination, { recursive: true });
}
