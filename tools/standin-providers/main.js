#!/usr/bin/env node
'use strict';
// `node main.js <proxmox|random|tls>`: the plugin side of go-plugin v1.6.0 as Terraform 1.11.4 launches it. Every
// fact is from ../shared/providers/terraform-plugin-protocol/README.md ("How Terraform launches a provider").
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const { createProviderService } = require('./server');
const { createLocalhostCertificate } = require('./tls-cert');

const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const CORE_PROTOCOL_VERSION = 1;
const PROVIDERS = ['proxmox', 'random', 'tls'];

// Terraform shows plugin stderr only in its log, but quotes an unexpected first stdout line in its error
// ("Unrecognized remote plugin message: …"), so a failed start also says why there, on one line.
function die(message, { quoteOnStdout = true } = {}) {
  process.stderr.write(`${message}\n`);
  if (quoteOnStdout) process.stdout.write(`stand-in provider failed to start: ${message.split('\n')[0]}\n`);
  process.exit(1);
}

// go-plugin's server.go Serve: without the cookie it is not a plugin run.
function checkCookie() {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    die('This binary is a plugin. These are not meant to be executed directly.\n'
      + 'Please execute the program that consumes these plugins, which will\nload any plugins automatically', { quoteOnStdout: false });
  }
}

// Serve picks the highest version in PLUGIN_PROTOCOL_VERSIONS that it serves; a stand-in serves exactly one.
function negotiate(model) {
  const offered = (process.env.PLUGIN_PROTOCOL_VERSIONS ?? String(model.protocol)).split(',').map((v) => Number(v.trim()));
  if (!offered.includes(model.protocol)) {
    die(`${model.address} serves plugin protocol ${model.protocol}; the client offers ${offered.join(', ')} (PLUGIN_PROTOCOL_VERSIONS)`);
  }
  return model.protocol;
}

// go-plugin's controller service: Terraform calls Shutdown when it closes the plugin and force-kills after 2 s.
// Empty request and response, so no proto file is needed for it.
const EMPTY = { requestSerialize: () => Buffer.alloc(0), requestDeserialize: () => ({}), responseSerialize: () => Buffer.alloc(0), responseDeserialize: () => ({}) };
const CONTROLLER = { Shutdown: { path: '/plugin.GRPCController/Shutdown', requestStream: false, responseStream: false, ...EMPTY } };

function credentials() {
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  // TF_DISABLE_PLUGIN_TLS makes Terraform send no client cert; then the plugin serves plain gRPC.
  if (!clientCert) return { creds: grpc.ServerCredentials.createInsecure(), certField: '' };
  const { certPem, keyPem, certDer } = createLocalhostCertificate();
  const creds = grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ private_key: Buffer.from(keyPem), cert_chain: Buffer.from(certPem) }], true);
  // The handshake carries the leaf as DER in base64.RawStdEncoding (no padding).
  return { creds, certField: certDer.toString('base64').replace(/=+$/, '') };
}

function socketPath() {
  const dir = process.env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir();
  return path.join(dir, `plugin${crypto.randomBytes(6).readUIntBE(0, 6)}`);
}

async function main() {
  const name = process.argv[2];
  // --reattach: started by a test harness and reached through TF_REATTACH_PROVIDERS (plain gRPC, no cookie; see the
  // protocol README, "TF_REATTACH_PROVIDERS"), so one process serves every terraform command of a test file.
  const reattach = process.argv[3] === '--reattach';
  if (!PROVIDERS.includes(name)) die(`usage: node main.js <${PROVIDERS.join('|')}> [--reattach] (got ${JSON.stringify(name)})`);
  if (!reattach) checkCookie();
  const model = require(`./providers/${name}`);
  const protocol = reattach ? model.protocol : negotiate(model);
  const provider = createProviderService(model);
  const { creds, certField } = reattach ? { creds: grpc.ServerCredentials.createInsecure(), certField: '' } : credentials();

  const server = new grpc.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  server.addService(provider.service, provider.implementation);
  const exit = () => {
    server.forceShutdown();
    process.exit(0);
  };
  server.addService(CONTROLLER, {
    Shutdown: (call, callback) => {
      callback(null, {});
      if (!reattach) setTimeout(exit, 20); // let the answer leave first; a reattached server outlives each command
    },
  });

  const socket = socketPath();
  process.on('exit', () => fs.rmSync(socket, { force: true }));
  process.on('SIGTERM', exit);
  await new Promise((resolve, reject) => server.bindAsync(`unix:${socket}`, creds, (error) => (error ? reject(error) : resolve())));
  // A killed Terraform (or test runner, for a reattached server) leaves no one to call Shutdown: leave when the parent is gone.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) exit();
  }, 1000).unref();
  if (reattach) {
    // Test: true, or Terraform takes a protocol-6 server for protocol 5 (and would kill the pid on a failed dial).
    const config = { Protocol: 'grpc', ProtocolVersion: protocol, Pid: process.pid, Test: true, Addr: { Network: 'unix', String: socket } };
    process.stdout.write(`${JSON.stringify({ [model.address]: config })}\n`);
    return;
  }
  process.stdout.write(`${CORE_PROTOCOL_VERSION}|${protocol}|unix|${socket}|grpc|${certField}\n`);

}

main().catch((error) => die(`${error.message}\n${error.stack ?? ''}`));
