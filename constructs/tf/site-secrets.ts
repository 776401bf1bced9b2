import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { SitePlan } from '../site/plan';
import { Distribution } from '../site/spec';

/** The providers that generate the site's secrets: random (unless secrets come from variables) and tls where keys are needed. */
export function addSecretProviders(stack: TerraformStack, site: SitePlan, secretsFromVariables: boolean): void {
  if (!secretsFromVariables) {
    new RandomProvider(stack, 'random');
  }
  // Exactly one tls provider: kubeadm's cluster CA and the PostgreSQL datastore's CA both need it.
  if (site.controlPlane.distribution === Distribution.KUBEADM || site.postgres?.tls === true) {
    new TlsProvider(stack, 'tls');
  }
}

/** A secret the operator sets, as the sensitive Terraform variable `name` (`TF_VAR_<name>`). */
export function secretVariable(stack: TerraformStack, name: string, description: string): string {
  return new TerraformVariable(stack, name, { type: 'string', sensitive: true, description }).stringValue;
}
