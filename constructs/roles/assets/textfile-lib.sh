#!/bin/sh
# proxmox-k3s-ha: how the host's metric scripts publish for node_exporter's textfile collector, put before each one
# when it is rendered (withTextfileLibrary in roles/textfile-metric.ts).

# publish_textfile NAME: standard input becomes NAME.prom in PKH_TEXTFILE_DIR (default
# /var/lib/prometheus/node-exporter), written under a name the collector skips (not *.prom), then renamed, so a scrape
# never reads half a file; nothing when that folder is missing (no node_exporter on this machine).
publish_textfile() {
  textfile_dir=${PKH_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
  if [ ! -d "$textfile_dir" ]; then
    cat >/dev/null
    return 0
  fi
  textfile_tmp="$textfile_dir/.$1.prom.$$"
  if cat >"$textfile_tmp" && chmod 0644 "$textfile_tmp"; then
    mv -f "$textfile_tmp" "$textfile_dir/$1.prom"
  else
    rm -f "$textfile_tmp"
    return 1
  fi
}
