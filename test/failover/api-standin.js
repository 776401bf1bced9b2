#!/usr/bin/env node
// Stand-in for a K3s API server in the failover lab: TLS on :6443, answers what HAProxy's health checks ask
// (/readyz, /ping) and tells probes which server answered. SIGUSR1 makes it "alive but not ready" (/readyz → 500),
// SIGUSR2 ready again. Usage: api-standin.js NAME CERT KEY
'use strict';
const fs = require('fs');
const https = require('https');

const [name, cert, key] = process.argv.slice(2);
let ready = true;
process.on('SIGUSR1', () => { ready = false; });
process.on('SIGUSR2', () => { ready = true; });

const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  if (req.url === '/readyz' || req.url === '/livez' || req.url === '/healthz') {
    res.writeHead(ready ? 200 : 500, { 'content-type': 'text/plain' });
    res.end(ready ? 'ok' : '[-]etcd failed: not ready');
  } else if (req.url === '/ping') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('pong');
  } else if (req.url === '/hold') {
    // A long-lived response (like a watch): headers now, then silence until the connection closes.
    res.writeHead(200, { 'content-type': 'text/plain', 'x-server': name });
    res.write(`${name}\n`);
  } else {
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain', 'x-server': name });
    res.end(name);
  }
});
server.keepAliveTimeout = 1000;
server.listen(6443, '0.0.0.0', () => process.stdout.write(`${name} listening\n`));
