import { readFileSync } from 'fs';
import { join } from 'path';

/** The shell function the host's metric scripts publish with (`publish_textfile NAME`), one shellchecked asset. */
const TEXTFILE_LIBRARY = readFileSync(join(__dirname, 'assets', 'textfile-lib.sh'), 'utf8');

/** A metric script as installed: the textfile library first, then the script (its `#!` line dropped). */
export function withTextfileLibrary(script: string): string {
  return `${TEXTFILE_LIBRARY}${script.replace(/^#!.*\n/, '')}`;
}
