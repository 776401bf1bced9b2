import { SitePlan, defineSites } from '../constructs';
import lab from './lab';

/**
 * Every site both apps synthesize, in a stable order. Validated together: a problem in any site stops both apps
 * before they write anything, with one error naming every problem.
 */
export const SITES: readonly SitePlan[] = defineSites([lab]);
