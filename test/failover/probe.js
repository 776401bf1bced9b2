#!/usr/bin/env node
// Client probe of the failover lab: every INTERVAL ms a fresh TCP+TLS connection to HOST:PORT sends one request
// and reads which server answered. A probe fails on any error or when it takes longer than LIMIT ms. Writes one
// JSON line per probe: {"t": start ms, "ok": bool, "ms": duration, "server": name?, "error": text?}.
// Stops by itself after DURATION ms. Usage: probe.js HOST PORT INTERVAL LIMIT DURATION
'use strict';
const tls = require('tls');

const [host, port, interval, limit, duration] = process.argv.slice(2).map((v, i) => (i === 0 ? v : Number(v)));
const end = Date.now() + duration;

function probe() {
  const t = Date.now();
  let done = false;
  const finish = (ok, extra) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    process.stdout.write(`${JSON.stringify({ t, ok, ms: Date.now() - t, ...extra })}\n`);
  };
  const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: 'api' });
  const timer = setTimeout(() => finish(false, { error: 'timeout' }), limit);
  let data = '';
  socket.on('secureConnect', () => socket.write(`GET /whoami HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n`));
  socket.on('data', (chunk) => {
    data += chunk;
    if (data.includes('\r\n\r\n')) {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1]);
      const server = /\r\nx-server: (\S+)/i.exec(data)?.[1];
      finish(status === 200, { server, ...(status === 200 ? {} : { error: `status ${status}` }) });
    }
  });
  socket.on('error', (error) => finish(false, { error: error.code ?? error.message }));
  socket.on('close', () => finish(false, { error: 'closed' }));
}

const ticker = setInterval(() => {
  if (Date.now() >= end) {
    clearInterval(ticker);
    setTimeout(() => process.exit(0), limit + 50);
    return;
  }
  probe();
}, interval);
