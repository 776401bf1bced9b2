import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative, resolve } from 'path';

const root = resolve(__dirname, '../..');
const committed = join(root, 'constructs/tf/generated');

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  }).sort();
}

test('npm run gen:proxmox regenerates the committed bpg/proxmox bindings byte for byte', () => {
  const out = mkdtempSync(join(tmpdir(), 'pkh-gen-'));
  try {
    const result = spawnSync(process.execPath, [join(root, 'scripts/gen-proxmox.js')], {
      cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, PROXMOX_BINDINGS_OUT: out, CHECKPOINT_DISABLE: '1' },
    });
    expect(result.status).toBe(0);
    const expected = listFiles(committed).map((f) => relative(committed, f));
    expect(listFiles(out).map((f) => relative(out, f))).toEqual(expected);
    expect(expected).toContain('providers/proxmox/virtual-environment-vm/index.ts');
    for (const file of expected) {
      expect({ file, same: readFileSync(join(out, file), 'latin1') === readFileSync(join(committed, file), 'latin1') }).toEqual({ file, same: true });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
