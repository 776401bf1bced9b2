import { describePlanTable } from './plan-table-suite';

describePlanTable('kubeadm-stacked');
