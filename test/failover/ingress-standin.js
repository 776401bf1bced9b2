#!/usr/bin/env node
// Stand-in for the NGINX ingress controller on one node of the failover lab, on the Service's NodePorts: HTTP on
// HTTP_PORT and HTTPS on HTTPS_PORT. Answers /nginx-health (the controller's -health-status page) with 200 while
// ready, and any other path with the node's name (x-server) while ready, 503 otherwise. Started with "not-ready" it
// waits for SIGUSR2 (like a controller that has not loaded its configuration yet); SIGUSR1 makes it not ready.
// Usage: ingress-standin.js NAME HTTP_PORT HTTPS_PORT CERT KEY [not-ready]
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');

const [name, httpPort, httpsPort, cert, key, initial] = process.argv.slice(2);
let ready = initial !== 'not-ready';
process.on('SIGUSR1', () => { ready = false; });
process.on('SIGUSR2', () => { ready = true; });

function handle(req, res) {
  if (req.url === '/nginx-health') {
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ready ? 'healthy' : 'not ready');
  } else {
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain', 'x-server': name });
    res.end(name);
  }
}

const plain = http.createServer(handle);
const secure = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handle);
plain.keepAliveTimeout = 1000;
secure.keepAliveTimeout = 1000;
plain.listen(Number(httpPort), '0.0.0.0', () => secure.listen(Number(httpsPort), '0.0.0.0', () => process.stdout.write(`${name} ingress listening\n`)));
