import { randomBytes } from 'crypto';
import { mkdirSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/**
 * A temporary directory for the describe block this is called in: named at collection, made (0700, as mkdtemp does)
 * by a `beforeAll` registered here, so a block that is skipped or filtered out makes nothing its `afterAll` would not
 * remove. Call it before the block's other hooks; the block removes the directory in its `afterAll`.
 */
export function blockTempDir(prefix: string): string {
  const dir = join(tmpdir(), `${prefix}${process.pid}-${randomBytes(6).toString('hex')}`);
  beforeAll(() => mkdirSync(dir, { mode: 0o700 }));
  return dir;
}
