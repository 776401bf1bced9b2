#!/usr/bin/env node
// Client probe of the failover lab: every INTERVAL ms a fresh connection to HOST:PORT (TCP+TLS, or plain TCP with
// MODE "http") sends one request and reads which server answered. A probe fails on any error, on a status other than
// 200, or when it takes longer than LIMIT ms. Writes one JSON line per probe:
// {"t": start ms, "ok": bool, "ms": duration, "server": name?, "error": text?}.
// Stops by itself after DURATION ms. Usage: probe.js HOST PORT INTERVAL LIMIT DURATION [MODE]
'use strict';
const net = require('net');
const tls = require('tls');

const [host, port, interval, limit, duration] = process.argv.slice(2, 7).map((v, i) => (i === 0 ? v : Number(v)));
const mode = process.argv[7] ?? 'tls';
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
  const request = `GET /whoami HTTP/1.1\r\nHost: ${mode === 'http' ? 'app' : 'api'}\r\nConnection: close\r\n\r\n`;
  const socket = mode === 'http'
    ? net.connect({ host, port }, () => socket.write(request))
    : tls.connect({ host, port, rejectUnauthorized: false, servername: 'api' }, () => socket.write(request));
  const timer = setTimeout(() => finish(false, { error: 'timeout' }), limit);
  let data = '';
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
