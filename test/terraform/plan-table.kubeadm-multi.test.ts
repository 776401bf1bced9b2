import { describePlanTable } from './plan-table-suite';

describePlanTable('kubeadm-multi');
