#!/usr/bin/env bash
# The whole test suite. As root, installs the Debian validators the suites run (haproxy, keepalived, bind9,
# cloud-init, shellcheck, PostgreSQL, Patroni, etcd, iproute2, OpenSSH, Prometheus and its exporters, sudo and the QEMU guest agent for the VM labs) when missing; elsewhere the suites that need them report as
# skipped, naming the missing tool. Writes jest's JSON results to test-results/jest*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1 DISABLE_VERSION_CHECK=1

required_commands=(haproxy keepalived named named-checkconf named-checkzone dig cloud-init shellcheck ip killall curl openssl nsenter unshare sshd ssh-keygen patroni etcd etcdctl promtool amtool prometheus prometheus-node-exporter prometheus-bind-exporter rclone pgbackrest jq sudo qemu-ga)
postgres_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
missing=()
for command in "${required_commands[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("$command")
done
[ -n "$postgres_bin" ] || missing+=(postgres)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing the validators (missing: ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      haproxy keepalived bind9 bind9-utils cloud-init shellcheck postgresql patroni etcd-server etcd-client iproute2 psmisc curl openssl util-linux bind9-dnsutils openssh-server openssh-client prometheus prometheus-alertmanager prometheus-node-exporter prometheus-bind-exporter rclone pgbackrest jq sudo qemu-guest-agent >/dev/null
  else
    echo "not root: suites needing ${missing[*]} will be reported as skipped"
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.test.json
npm run --silent build
mkdir -p test-results
rm -f test-results/*.json
# The failover, datastore failover, rolling-update and alert labs measure timings: they run alone, after the other suites,
# so their load cannot disturb them. The rolling lab needs the terraform CLI; without it that suite reports as skipped.
status=0
npx jest --ci --json --outputFile=test-results/jest.json --testPathIgnorePatterns /test/failover/ /test/rolling/ /test/datastore/lab/ '/test/monitoring/labs/.*-alerts' "$@" || status=$?
npx jest --ci --json --outputFile=test-results/jest-failover.json --runInBand --forceExit test/failover test/datastore/lab test/rolling 'test/monitoring/labs/.*-alerts' || status=$?
exit "$status"
