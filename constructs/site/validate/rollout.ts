import { ProblemCollector } from '../../core/problems';
import { expectObject, reportUnknownKeys } from './shape';

const BASTION = /^(?:([a-z_][a-z0-9_-]{0,31})@)?([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/** `user@host:port` as the converge steps' SSH connections take it. */
export function parseBastion(text: string): { host: string; user?: string; port?: number } {
  const match = BASTION.exec(text)!;
  return { host: match[2], ...(match[1] ? { user: match[1] } : {}), ...(match[3] ? { port: Number(match[3]) } : {}) };
}

export function validateRollout(problems: ProblemCollector, rollout: unknown): void {
  if (rollout === undefined || !expectObject(problems, 'rollout', rollout)) {
    return;
  }
  reportUnknownKeys(problems, 'rollout', rollout, ['agentConcurrency', 'allowUnsafeServerRemoval', 'bastion']);
  if (rollout.agentConcurrency !== undefined) {
    problems.check(Number.isInteger(rollout.agentConcurrency) && (rollout.agentConcurrency as number) >= 1 && (rollout.agentConcurrency as number) <= 100,
      'rollout.agentConcurrency', rollout.agentConcurrency, 'an integer from 1 to 100 (agents converging at once)');
  }
  if (rollout.allowUnsafeServerRemoval !== undefined) {
    problems.check(typeof rollout.allowUnsafeServerRemoval === 'boolean', 'rollout.allowUnsafeServerRemoval', rollout.allowUnsafeServerRemoval, 'true or false');
  }
  if (rollout.bastion !== undefined) {
    const match = typeof rollout.bastion === 'string' ? BASTION.exec(rollout.bastion) : null;
    problems.check(match !== null && (match[3] === undefined || (Number(match[3]) >= 1 && Number(match[3]) <= 65535)), 'rollout.bastion', rollout.bastion,
      'a jump host "host", "user@host" or "user@host:port"');
  }
}
