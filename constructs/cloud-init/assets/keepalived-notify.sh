#!/bin/sh
# Keepalived's notify script (rendered by proxmox-k3s-ha), run on every VRRP transition with: TYPE NAME STATE PRIORITY.
# Logs the transition, then publishes the instance's state for node_exporter's textfile collector as
#   keepalived_vrrp_state{vrrp_instance="NAME"} 1   (1 while this node holds the VIP: MASTER; 0 in BACKUP, FAULT, STOP)
# in its own file per instance, written to a temporary file and renamed: the collector never reads a half-written file.
# PKH_TEXTFILE_DIR overrides the directory (tests); keepalived runs the script with its own fixed environment.
set -u
type=${1:-}
name=${2:-}
state=${3:-}
priority=${4:-}
logger -t keepalived-notify "vrrp $type $name is now $state (priority $priority)" || true

[ "$type" = INSTANCE ] || exit 0
# The name becomes a label value and a file name: the rendered instance names are letters, digits and '_'.
case $name in
  '' | *[!A-Za-z0-9_]*)
    logger -t keepalived-notify "instance name '$name' is not [A-Za-z0-9_]+; its state is not published" || true
    exit 1
    ;;
esac
dir=${PKH_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
# No node_exporter on this machine (a lab, a host before its packages): nothing to publish to.
[ -d "$dir" ] || exit 0
case $state in
  MASTER) value=1 ;;
  *) value=0 ;;
esac
file="$dir/keepalived-vrrp-$name.prom"
# Not *.prom: the collector skips it until the rename.
tmp="$dir/.keepalived-vrrp-$name.prom.$$"
if ! printf '%s\n' \
  '# HELP keepalived_vrrp_state 1 while this node is MASTER of the VRRP instance (holds its VIP), else 0.' \
  '# TYPE keepalived_vrrp_state gauge' \
  "keepalived_vrrp_state{vrrp_instance=\"$name\"} $value" > "$tmp"; then
  rm -f "$tmp"
  exit 1
fi
chmod 0644 "$tmp"
mv -f "$tmp" "$file"
