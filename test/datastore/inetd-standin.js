#!/usr/bin/env node
// Stand-in for the role check's systemd socket unit (ListenStream=ADDRESS:PORT, Accept=yes) in the datastore lab,
// where no systemd runs: every connection starts COMMAND as UID:GID with the connection as its stdin and stdout,
// exactly like an inetd service, and is killed after 10 s (the unit's RuntimeMaxSec).
// Usage: inetd-standin.js ADDRESS PORT UID GID COMMAND [ARG...]
'use strict';
const net = require('net');
const { spawn } = require('child_process');

const [address, port, uid, gid, command, ...args] = process.argv.slice(2);

// pauseOnConnect: Node must not read from the socket before the child gets it.
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  let child;
  try {
    child = spawn(command, args, { stdio: [socket, socket, 'inherit'], uid: Number(uid), gid: Number(gid) });
  } catch (error) {
    process.stderr.write(`inetd-standin: ${error}\n`);
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  child.on('exit', () => clearTimeout(timer));
  child.on('error', (error) => process.stderr.write(`inetd-standin: ${error}\n`));
  // The child holds its own descriptor: the connection closes when it exits, as under inetd.
  socket.destroy();
});
server.listen(Number(port), address, () => process.stderr.write(`inetd-standin: listening on ${address}:${port}\n`));
