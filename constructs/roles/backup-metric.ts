import { readFileSync } from 'fs';
import { join } from 'path';
import { withTextfileLibrary } from './textfile-metric';

/** The shell function the backup jobs end with (`publish_backup_success KIND`), one shellchecked asset. */
const BACKUP_METRIC_LIBRARY = readFileSync(join(__dirname, 'assets', 'backup-metric-lib.sh'), 'utf8');

/** A backup job as installed: the textfile and backup metric libraries first, then the script (its `#!` line dropped). */
export function withBackupMetric(script: string): string {
  // withTextfileLibrary drops the library's `#!` line, the first of the text it gets.
  return withTextfileLibrary(`${BACKUP_METRIC_LIBRARY}${script.replace(/^#!.*\n/, '')}`);
}
