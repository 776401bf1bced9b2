import { AddressInfo, createServer } from 'net';

/** A TCP port free on 127.0.0.1 a moment ago (the OS picks it), for a daemon a test starts on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
