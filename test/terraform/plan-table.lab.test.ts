import { describePlanTable } from './plan-table-suite';

describePlanTable('lab');
