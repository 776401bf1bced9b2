"""Runs a Patroni command with etcd's v3 API path chosen from the etcd server's version, on Patroni's interpreter:
    /usr/bin/python3 patroni-etcd-v3.py patroni|patronictl ARGUMENTS...

Patroni (3.0 to 4.x, Etcd3Client._ensure_version_prefix in patroni/dcs/etcd3.py) picks the path of etcd's gRPC
gateway from the *cluster* version the member reports: /v3alpha below 3.3, /v3beta below 3.4, /v3 from 3.4. etcd
(3.4 and 3.5: EtcdServer.monitorVersions) sets a new cluster's version to 3.0 when one member has not answered yet,
and raises it only once every member has; etcd 3.4 serves /v3 and /v3beta, not /v3alpha. So a datastore whose
witness (or any one etcd member) is down at its first start has a healthy quorum that Patroni cannot use. A server
of 3.4 or later serves /v3 whatever the cluster version: this picks /v3 for it, and leaves older servers to Patroni.
"""
import sys
from importlib.metadata import entry_points

COMMANDS = ('patroni', 'patronictl')


def use_v3_api_of_etcd_34_servers():
    """Replaces Etcd3Client._ensure_version_prefix; leaves Patroni as it is (with a warning) if it changed shape."""
    try:
        from patroni.dcs.etcd3 import Etcd3Client
    except ImportError as error:
        print(f'patroni-etcd-v3: Patroni has no etcd3 client ({error}); running it unchanged', file=sys.stderr)
        return
    original = getattr(Etcd3Client, '_ensure_version_prefix', None)
    if original is None or not hasattr(Etcd3Client, '_handle_server_response') or not hasattr(Etcd3Client, '_MGET'):
        print('patroni-etcd-v3: this Patroni chooses its etcd API path differently; running it unchanged', file=sys.stderr)
        return

    def ensure_version_prefix(self, base_uri, **kwargs):
        if self.version_prefix != '/v3':
            response = self._handle_server_response(self.http.urlopen(self._MGET, base_uri + '/version', **kwargs))
            server = tuple(int(part) for part in str(response['etcdserver']).split('.')[:2])
            if server >= (3, 4):
                self.version_prefix = '/v3'
                # Patroni gates watches and authentication on this; the server serves both.
                self._cluster_version = server + (0,)
                return
        original(self, base_uri, **kwargs)

    Etcd3Client._ensure_version_prefix = ensure_version_prefix


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f'usage: {sys.argv[0]} {"|".join(COMMANDS)} ARGUMENTS...', file=sys.stderr)
        return 2
    name = sys.argv[1]
    command = next(iter(entry_points(group='console_scripts', name=name)), None)
    if command is None:
        print(f'patroni-etcd-v3: no {name} command is installed', file=sys.stderr)
        return 2
    use_v3_api_of_etcd_34_servers()
    sys.argv = [name, *sys.argv[2:]]
    return command.load()()


if __name__ == '__main__':
    sys.exit(main())
