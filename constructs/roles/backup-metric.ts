import { readFileSync } from 'fs';
import { join } from 'path';

/** The shell function the backup jobs end with (`publish_backup_success KIND`), one shellchecked asset. */
const BACKUP_METRIC_LIBRARY = readFileSync(join(__dirname, 'assets', 'backup-metric-lib.sh'), 'utf8');

/** A backup job as installed: the shared metric library first, then the script (its `#!` line dropped). */
export function withBackupMetric(script: string): string {
  return `${BACKUP_METRIC_LIBRARY}${script.replace(/^#!.*\n/, '')}`;
}
