import { CloudConfig, Protocol } from '../../constructs';

/** A builder using every feature, with content that is awkward for YAML and shell quoting. */
export function richCloudConfig(): CloudConfig {
  const config = new CloudConfig({ hostname: 'lb-01', fqdn: 'lb-01.k3s.test.local' });
  config.addUser('base', { name: 'k3sadmin', sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKtest operator@example'], sudo: true, groups: ['adm', 'sudo'] });
  config.addAptSource('haproxy', { name: 'haproxy-ppa', source: 'deb [signed-by=$KEY_FILE] http://ppa.launchpadcontent.net/vbernat/haproxy-3.0/ubuntu noble main', key: '-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBFake\n-----END PGP PUBLIC KEY BLOCK-----\n' });
  config.addPackages('haproxy', 'haproxy', 'psmisc');
  config.addPackages('keepalived', 'keepalived', 'psmisc');
  config.addFile('haproxy', { path: '/etc/haproxy/haproxy.cfg', content: "global\n  log stdout format raw local0\n  # it's ${quoted} and \"double\" and \\back\n", mode: '0640', owner: 'root:haproxy' });
  config.addFile('keepalived', { path: '/etc/keepalived/check.sh', content: '#!/bin/sh\nkillall -0 haproxy\n', mode: '0755' });
  config.addFile('keepalived', { path: '/etc/keepalived/no-newline.txt', content: 'no trailing newline' });
  config.addSysctl('keepalived', 'net.ipv4.ip_nonlocal_bind', 1);
  config.addKernelModule('k3s-node', 'br_netfilter');
  config.addBootCommand('keepalived', 'ip link set dev eth0 up');
  config.addCommand('haproxy', 'systemctl enable --now haproxy');
  config.addCommand('keepalived', 'systemctl enable --now keepalived');
  config.claimPort('haproxy', { port: 8443, protocol: Protocol.TCP, description: 'haproxy api frontend' });
  return config;
}
