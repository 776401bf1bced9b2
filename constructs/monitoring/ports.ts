/**
 * The ports of the host exporters, in a module that imports nothing: the renderers, the roles, the port model and the
 * scrape-target list all read them, so none of them depends on another through this module.
 */

/** node_exporter (Debian's `prometheus-node-exporter` default port), on every host. */
export const NODE_EXPORTER_PORT = 9100;
/** bind_exporter (Debian's `prometheus-bind-exporter` default port), on every DNS server. */
export const BIND_EXPORTER_PORT = 9119;
/** Bind9's statistics channel, which bind_exporter reads (port 8053 as in BIND's and bind_exporter's docs). */
export const BIND_STATISTICS_PORT = 8053;
/** etcd's plain-HTTP metrics listener (`--listen-metrics-urls`): K3s's `etcd-expose-metrics` and kubeadm's etcd use it. */
export const ETCD_METRICS_PORT = 2381;
/** node_exporter's textfile collector directory (the Debian package's default). */
export const NODE_EXPORTER_TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
