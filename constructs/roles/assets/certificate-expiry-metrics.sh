#!/bin/sh
# Publishes when each certificate the site generated for this host stops being valid (rendered by proxmox-k3s-ha;
# run daily by the pkh-certificate-expiry-metrics systemd timer), for node_exporter's textfile collector:
#   pkh_certificate_expiry_timestamp_seconds{path="/etc/..."}   notAfter of the certificate, in Unix seconds
# A missing file is skipped (its role may not have written it yet); an unreadable one is skipped, reported on stderr
# and makes the run exit 1 (the unit shows failed) after the others are published.
# Usage: certificate-expiry-metrics.sh CERTIFICATE...
# PKH_TEXTFILE_DIR overrides the textfile directory (tests); publish_textfile comes from textfile-lib.sh.
set -eu
status=0
metrics=$(
  echo '# HELP pkh_certificate_expiry_timestamp_seconds When the certificate at path stops being valid (notAfter).'
  echo '# TYPE pkh_certificate_expiry_timestamp_seconds gauge'
  status=0
  for certificate in "$@"; do
    [ -e "$certificate" ] || continue
    # "notAfter=Mar  5 12:00:00 2027 GMT" (openssl x509 -enddate); GNU date reads the part after "=".
    if end=$(openssl x509 -enddate -noout -in "$certificate" 2>/dev/null) && seconds=$(date -u -d "${end#notAfter=}" +%s 2>/dev/null); then
      echo "pkh_certificate_expiry_timestamp_seconds{path=\"$certificate\"} $seconds"
    else
      echo "certificate-expiry-metrics: $certificate is not a readable PEM certificate" >&2
      status=1
    fi
  done
  exit "$status"
) || status=$?
printf '%s\n' "$metrics" | publish_textfile pkh-certificates
exit "$status"
