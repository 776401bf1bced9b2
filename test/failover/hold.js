#!/usr/bin/env node
// A long-lived client connection (like a kubectl watch) through HOST:PORT: prints `server <name> <ms>` once the
// response headers arrive and `closed <ms>` when the connection ends. Exits by itself after LIMIT ms.
// Usage: hold.js HOST PORT LIMIT
'use strict';
const tls = require('tls');

const [host, port, limit] = process.argv.slice(2);
const socket = tls.connect({ host, port: Number(port), rejectUnauthorized: false, servername: 'api' });
let data = '';
let reported = false;
socket.on('secureConnect', () => socket.write('GET /hold HTTP/1.1\r\nHost: api\r\n\r\n'));
socket.on('data', (chunk) => {
  data += chunk;
  const server = /\r\nx-server: (\S+)/i.exec(data)?.[1];
  if (server && !reported) {
    reported = true;
    process.stdout.write(`server ${server} ${Date.now()}\n`);
  }
});
socket.on('close', () => {
  process.stdout.write(`closed ${Date.now()}\n`);
  process.exit(0);
});
socket.on('error', () => undefined);
setTimeout(() => process.exit(0), Number(limit));
