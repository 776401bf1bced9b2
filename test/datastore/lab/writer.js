#!/usr/bin/env node
'use strict';
/**
 * The lab's K3s stand-in: commits one row per attempt through the writer endpoint, for as long as it runs, and
 * appends one JSON line per attempt to WRITER_OUT: {id, start, end, ok, server, error}. Runs inside the client's
 * network namespace (started by PatroniLab.startWriter), so each attempt is a fresh libpq connection from the
 * K3s server's address, the way kine reconnects after its connection broke.
 *
 * An attempt is acknowledged only when psql exits 0 after the autocommit INSERT returned: the commit was
 * confirmed to the client. Every attempt is bounded by WRITER_ATTEMPT_MS (psql is killed past it: a commit
 * waiting for a synchronous standby must not hang the writer), the whole run by WRITER_MAX_MS; SIGTERM ends
 * the run after the current attempt.
 *
 * Environment: WRITER_PSQL (psql binary), WRITER_DSN (connection string; also PGSSLROOTCERT, PGCONNECT_TIMEOUT),
 * WRITER_OUT, WRITER_FIRST_ID, WRITER_ATTEMPT_MS (5000), WRITER_INTERVAL_MS (50), WRITER_MAX_MS (600000).
 */
const { spawn } = require('child_process');
const { appendFileSync } = require('fs');

const psql = process.env.WRITER_PSQL;
const dsn = process.env.WRITER_DSN;
const out = process.env.WRITER_OUT;
let id = Number(process.env.WRITER_FIRST_ID);
const attemptMs = Number(process.env.WRITER_ATTEMPT_MS || 5000);
const intervalMs = Number(process.env.WRITER_INTERVAL_MS || 50);
const deadline = Date.now() + Number(process.env.WRITER_MAX_MS || 600000);
if (!psql || !dsn || !out || !Number.isSafeInteger(id)) {
  process.stderr.write('writer.js: WRITER_PSQL, WRITER_DSN, WRITER_OUT and WRITER_FIRST_ID are required\n');
  process.exit(2);
}

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});

/** One autocommit INSERT through a new connection; resolves with psql's verdict. */
function attempt(rowId) {
  return new Promise((resolve) => {
    const child = spawn(psql, ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-d', dsn, '-c', `insert into probe (id) values (${rowId}) returning host(inet_server_addr())`],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), attemptMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ok = code === 0;
      resolve({ ok, server: ok ? stdout.trim() : undefined, error: ok ? undefined : (signal ? `timed out after ${attemptMs} ms` : stderr.trim().split('\n')[0]) });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: String(error) });
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  // Bounded by the deadline and by a count (one attempt takes at least intervalMs).
  for (let i = 0; i < 1_000_000 && !stopping && Date.now() < deadline; i++) {
    const start = Date.now();
    const result = await attempt(id);
    appendFileSync(out, `${JSON.stringify({ id, start, end: Date.now(), ...result })}\n`);
    id += 1;
    await sleep(intervalMs);
  }
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`writer.js: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exit(1);
});
