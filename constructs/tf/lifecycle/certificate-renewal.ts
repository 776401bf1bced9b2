import { IResolveContext, Lazy, TerraformResource, TerraformStack } from 'cdktf';
import { LocallySignedCert } from '@cdktf/provider-tls/lib/locally-signed-cert';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { HostConverge } from './host-converge';
import { resourceAddress } from '../lifecycle-references';

/*
 * Certificates the stack generates (hashicorp/tls) are renewed by Terraform itself: with `early_renewal_hours`, a
 * refresh from that many hours before the end of validity marks the certificate `ready_for_renewal` and the plan
 * replaces it (shared/providers/hashicorp-tls/README.md; `early_renewal_hours` is the one attribute updated in
 * place, so setting it on a running site replaces nothing). The new certificate reaches its host through the
 * converge step, whose trigger hashes the resolved values the host uses (HostConverge): the host re-converges in
 * its rollout slot. A `check` block warns in every plan ahead of time.
 */

/** A host certificate (signed by a CA of the stack) is renewed when this much of its validity is left. */
export const CERTIFICATE_EARLY_RENEWAL_HOURS = 365 * 24;
/** Plans warn this long before a host certificate's renewal. */
export const CERTIFICATE_RENEWAL_WARNING_HOURS = 30 * 24;
/** Plans warn this long before a CA expires. */
export const CA_EXPIRY_WARNING_HOURS = 365 * 24;

/**
 * Renewal of the stack's certificates: host certificates (`tls_locally_signed_cert`) get `early_renewal_hours` and a
 * plan warning from {@link CERTIFICATE_RENEWAL_WARNING_HOURS} before their renewal, naming the hosts that will
 * re-converge. CAs (`tls_self_signed_cert` with `is_ca_certificate`) are not renewed automatically: a new CA reaches
 * the hosts one at a time, and until the last one converged, hosts trusting only the old CA refuse the others'
 * certificates (etcd peers, Patroni, PostgreSQL, kubeadm joins). Their plan warning starts
 * {@link CA_EXPIRY_WARNING_HOURS} before the expiry, so the rotation can be planned.
 */
export function addCertificateRenewal(stack: TerraformStack): void {
  const converges = () => stack.node.findAll().filter((c): c is HostConverge => c instanceof HostConverge);
  const hostsUsing = (certificate: TerraformResource, context: IResolveContext) => {
    const hosts = converges().filter((converge) => converge.usesValueOf(resourceAddress(certificate), context)).map((converge) => converge.hostName);
    return hosts.length > 0 ? hosts.join(', ') : 'no host';
  };
  for (const construct of stack.node.findAll()) {
    if (construct instanceof LocallySignedCert) {
      // The getter returns a token when the attribute is not set: read what was configured.
      const earlyRenewalHours = construct.earlyRenewalHoursInput ?? CERTIFICATE_EARLY_RENEWAL_HOURS;
      construct.earlyRenewalHours = earlyRenewalHours;
      const address = resourceAddress(construct);
      const lead = earlyRenewalHours + CERTIFICATE_RENEWAL_WARNING_HOURS;
      addWarning(stack, `certificate_renewal_${identifier(construct.friendlyUniqueId)}`, {
        condition: `\${timecmp(plantimestamp(), timeadd(${address}.validity_end_time, "-${lead}h")) < 0}`,
        errorMessage: Lazy.stringValue({
          produce: (context) => `${address} is renewed by the first apply after \${timeadd(${address}.validity_end_time, "-${earlyRenewalHours}h")} `
            + `(it is valid until \${${address}.validity_end_time}); the hosts using it re-converge one at a time in rollout order: ${hostsUsing(construct, context)}`,
        }),
      });
    } else if (construct instanceof SelfSignedCert && construct.isCaCertificateInput === true) {
      const address = resourceAddress(construct);
      addWarning(stack, `ca_expiry_${identifier(construct.friendlyUniqueId)}`, {
        condition: `\${timecmp(plantimestamp(), timeadd(${address}.validity_end_time, "-${CA_EXPIRY_WARNING_HOURS}h")) < 0}`,
        errorMessage: Lazy.stringValue({
          produce: (context) => `the CA ${address} expires at \${${address}.validity_end_time} and is not renewed automatically: every host using it `
            + `(${hostsUsing(construct, context)}) must trust the new CA before any presents a certificate from it; plan the rotation before then`,
        }),
      });
    }
  }
}

/** A Terraform identifier from a logical id (`Datastore_TlsCertificate-cp1_00119167` → lower case, `_` only). */
function identifier(logicalId: string): string {
  return logicalId.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();
}

/** A `check` block with one assertion: Terraform reports a failed assertion as a warning in plan and apply. */
function addWarning(stack: TerraformStack, name: string, assertion: { condition: string; errorMessage: string }): void {
  stack.addOverride(`check.${name}.assert`, { condition: assertion.condition, error_message: assertion.errorMessage });
}
