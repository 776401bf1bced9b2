import { SitePlan } from '../constructs';
import lab from './lab';

/** Every site both apps synthesize, in a stable order. */
export const SITES: readonly SitePlan[] = [lab];
