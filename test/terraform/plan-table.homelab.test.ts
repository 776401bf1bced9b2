import { describePlanTable } from './plan-table-suite';

describePlanTable('homelab');
