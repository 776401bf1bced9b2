import { SitePlan, SiteSpec, defineSites } from '../constructs';
import homelab from './homelab';
import kubeadmMulti from './kubeadm-multi';
import kubeadmStacked from './kubeadm-stacked';
import lab from './lab';
import prod from './prod';

/** Every site's specification, in a stable order. */
export const SITE_SPECS: readonly SiteSpec[] = [homelab, prod, lab, kubeadmStacked, kubeadmMulti];

/**
 * Validates every site together and returns the plans both apps synthesize: a problem in any site stops both
 * apps before they write anything, with one error naming every problem.
 */
export function loadSites(): readonly SitePlan[] {
  return defineSites(SITE_SPECS);
}
