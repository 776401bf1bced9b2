#!/bin/sh
# proxmox-k3s-ha: a datastore node's converge step runs this before it changes anything on the host. Patroni reads
# its own passwords (superuser, replication, rewind, REST API) from its environment file only when it starts, and
# PostgreSQL keeps the roles' passwords from the bootstrap: a new value written to the file would reach neither, and
# the next start of Patroni would replicate and rewind with a password PostgreSQL refuses. So a changed one is
# refused here, while the file still holds the value the cluster runs with. (The K3s user's password is rotated by
# the converge itself: postgres-sync-k3s-password.sh.) Values are compared, never printed.
# Usage: patroni-passwords-kept.sh ENV_FILE NAME..., with the new value of each NAME (as in the file) in PKH_NEW_NAME.
set -eu

[ $# -ge 2 ] || { echo "usage: ${0##*/} ENV_FILE NAME..." >&2; exit 2; }
env_file=$1
shift
# The first converge of a host that never had the file: nothing runs with an older value.
[ -f "$env_file" ] || exit 0

changed=''
for name in "$@"; do
  case $name in
    '' | *[!A-Z_]*) echo "${0##*/}: \"$name\" is not a variable name" >&2; exit 2 ;;
  esac
  # systemd's KEY=value lines, read as text (never run); the last one wins, as in systemd.
  installed=$(sed -n "s/^$name=//p" "$env_file" | tail -n 1)
  new=$(printenv "PKH_NEW_$name" || true)
  [ "$installed" = "$new" ] || changed="$changed $name"
done
[ -n "$changed" ] || exit 0
echo "${0##*/}: changed:$changed. Patroni reads these only when it starts and PostgreSQL keeps the roles' passwords from the bootstrap, so Patroni's next start would replicate and rewind with a password PostgreSQL refuses. Rotating them is not supported yet: give the previous value back (the variable, or the random_password from the state's backup); nothing on this host changed." >&2
exit 1
