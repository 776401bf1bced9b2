import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { shellQuote } from '../../cloud-init/shell-quote';
import { escapeTerraformTemplate } from '../terraform-template';
import { ConvergeConnection, sshConnection, sudoFor } from './host-converge';
import { LifecycleScript, lifecycleScript } from './lifecycle-scripts';
import { TerraformData } from '../terraform-data';

/** What a {@link RebuildStep} runs, where, and when. */
export interface RebuildStepProps {
  /**
   * The host rebuilt on purpose: its name, under the trigger key the step names it by (`node`, `member`), and its
   * rebuild counter. Each rebuild replaces the step, so it runs again.
   */
  readonly rebuilt: { readonly key: string; readonly name: string; readonly generation: number };
  /** Another host, which stays: the script runs there over SSH. */
  readonly via: ConvergeConnection;
  /** What must exist while it runs (e.g. the machine of `via`). */
  readonly waitsFor: readonly TerraformResource[];
  /** The lifecycle script it runs; its file name without `.sh` is the script's `$0` in messages. */
  readonly script: LifecycleScript;
  /** Variables the script reads, in this order; a value with characters outside a plain shell word is quoted. */
  readonly environment: Readonly<Record<string, string>>;
  /** The script's arguments, each quoted. */
  readonly args: readonly string[];
}

/** Lifecycle scripts (with their library), each read from its file once, on first use. */
const SCRIPTS = new Map<LifecycleScript, string>();

/**
 * A step run before a host's new machine is created: a `terraform_data` resource (`<id>/Resource`), replaced with
 * the rebuilt host's generation, whose creation runs a lifecycle script on another host over SSH. The stack makes
 * the new machine depend on {@link resource}.
 */
export abstract class RebuildStep extends Construct {
  /** The resource whose creation runs the script. */
  public readonly resource: TerraformData;

  protected constructor(scope: Construct, id: string, props: RebuildStepProps) {
    super(scope, id);
    if (!SCRIPTS.has(props.script)) {
      SCRIPTS.set(props.script, lifecycleScript(props.script));
    }
    const env = Object.entries(props.environment).map(([name, value]) => `${name}=${shellWord(value)}`).join(' ');
    const args = props.args.map(shellQuote).join(' ');
    const name = props.script.replace(/\.sh$/, '');
    this.resource = new TerraformData(this, 'Resource', {
      dependsOn: [...props.waitsFor],
      triggersReplace: { [props.rebuilt.key]: props.rebuilt.name, generation: props.rebuilt.generation },
      connection: sshConnection(props.via),
      provisioners: [{
        type: 'remote-exec',
        // Literal `${` of the shell escaped for Terraform.
        inline: [`${sudoFor(props.via)}env ${env} sh -eu -c ${shellQuote(escapeTerraformTemplate(SCRIPTS.get(props.script)!))} ${name} ${args}`],
      }],
    });
  }
}

/** A value as one shell word: as it is when it holds only characters the shell takes literally, else quoted. */
function shellWord(value: string): string {
  return /^[\w./:@%+,-]+$/.test(value) ? value : shellQuote(value);
}
