import { Annotations, App, TerraformStack } from 'cdktf';
import {
  ACCEPT_UNSAFE_ENV, BASELINE_ENV, UnsafeChangeError, acceptedUnsafeChangeIds, splitAcceptedProblems, unsafeChangeId,
} from '../../core/unsafe-changes';
import { compareSyntheses } from './change-report';
import { displayPath, readSynthesis, resolveBaselineDir, stackSynthesisFile } from '../synthesis-baseline';

/**
 * Makes `app.synth()` (and so `cdktf synth`, `cdktf deploy`) fail when the stack's new synthesis makes an unsafe
 * change to the running site, compared with its previous synthesis: the unsafe changes are `compareSyntheses`'s
 * problems (a K3s downgrade or skipped minor, servers leaving at once or below quorum, a node removed without
 * being decommissioned, ...).
 *
 * The previous synthesis is `stacks/<stack id>/cdk.tf.json` in the folder named by `PROXMOX_K3S_HA_BASELINE`, else
 * in the app's own output folder: cdktf's CLI runs the app with its output folder (`cdktf.out`) as `CDKTF_OUTDIR`,
 * and a stack's file there is still the previous one while the stack is validated, because cdktf writes it only
 * after the validations pass. A failing check throws {@link UnsafeChangeError} from the validation, so the stack's
 * file keeps the previous synthesis (and the next run compares with it again). No previous file: a new site, no
 * check.
 *
 * To apply listed changes anyway, name their ids in `PROXMOX_K3S_HA_ACCEPT_UNSAFE` (comma-separated); each accepted
 * change becomes a warning annotation. Server removals can also be allowed in the site with
 * `rollout.allowUnsafeServerRemoval`. The check is a construct validation: `new App({ skipValidation: true })`
 * skips it along with cdktf's own.
 */
export function guardAgainstUnsafeChanges(stack: TerraformStack): void {
  stack.node.addValidation({ validate: () => checkAgainstPreviousSynthesis(stack) });
}

function checkAgainstPreviousSynthesis(stack: TerraformStack): string[] {
  const stackId = stack.node.id;
  const baselineDir = resolveBaselineDir(process.env[BASELINE_ENV], App.of(stack).outdir, BASELINE_ENV);
  const baselineFile = stackSynthesisFile(baselineDir, stackId);
  const previous = readSynthesis(baselineFile);
  if (previous === undefined) {
    if (process.env[BASELINE_ENV]) {
      // A named baseline without this stack is worth a word: a wrong folder would otherwise check nothing.
      Annotations.of(stack).addWarning(`${BASELINE_ENV}: no previous synthesis of stack ${stackId} (${displayPath(baselineFile)}): every host counts as new, nothing was compared`);
    }
    return [];
  }
  // The JSON round trip gives what cdktf writes (no undefined members), which is what the baseline holds.
  const next = JSON.parse(JSON.stringify(stack.toTerraform()));
  const { problems } = compareSyntheses(stackId, previous, next);
  const { accepted, blocking } = splitAcceptedProblems(problems, acceptedUnsafeChangeIds(process.env[ACCEPT_UNSAFE_ENV]));
  for (const problem of accepted) {
    Annotations.of(stack).addWarning(`unsafe change accepted by ${ACCEPT_UNSAFE_ENV} [${unsafeChangeId(problem)}]: ${problem}`);
  }
  if (blocking.length > 0) {
    // Thrown rather than returned: cdktf would wrap returned messages into its own report with construct paths.
    throw new UnsafeChangeError(stackId, displayPath(baselineFile), blocking);
  }
  return [];
}
