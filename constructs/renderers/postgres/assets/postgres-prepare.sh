#!/bin/sh
# Prepares a datastore node for Patroni, before Patroni first starts (idempotent):
#   postgres-prepare.sh MAJOR_VERSION
# Installing postgresql-<v> creates and starts Debian's own cluster "main" at the data directory Patroni manages.
# A cluster that holds nothing but the template and postgres databases is that fresh one: it is dropped, so
# Patroni initializes (first node) or clones (the others) the datastore there. A cluster that holds more is a
# datastore set up before Patroni: this stops rather than touch it (the runbook's "Move a datastore to Patroni").
# Environment (tests): PKH_POSTGRES_ETC (/etc/postgresql), PKH_POSTGRES_LIB (/var/lib/postgresql).
set -eu

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -eq 1 ] || die "usage: ${0##*/} MAJOR_VERSION"
version=$1
case $version in
  '' | *[!0-9]*) die "\"$version\" is not a PostgreSQL major version" ;;
esac
etc_root=${PKH_POSTGRES_ETC:-/etc/postgresql}
lib_root=${PKH_POSTGRES_LIB:-/var/lib/postgresql}
config_dir=$etc_root/$version/main
data_dir=$lib_root/$version/main

if [ ! -d "$config_dir" ]; then
  log "no Debian cluster $version/main: nothing to do"
  exit 0
fi
if [ -d "$data_dir/base" ]; then
  # A fresh cluster has exactly template1, template0 and postgres under base/.
  databases=$(find "$data_dir/base" -mindepth 1 -maxdepth 1 -type d | wc -l)
  if [ "$databases" -gt 3 ]; then
    die "$data_dir holds $((databases - 3)) database(s) beyond postgres and the templates: a datastore from before Patroni; not dropping it (see the runbook, \"Move a datastore to Patroni\")"
  fi
fi
log "dropping Debian's fresh cluster $version/main: Patroni manages $data_dir"
pg_dropcluster --stop "$version" main
