'use strict';
// PEM (RFC 7468) as Go's encoding/pem writes it (64-character lines, a final newline) and reads it: the first
// "-----BEGIN <type>-----" block of the text, anything before it skipped.

function encodePem(type, derBytes) {
  const body = derBytes.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${body}\n-----END ${type}-----\n`;
}

const BLOCK = /-----BEGIN ([^\r\n-]+(?:-[^\r\n-]+)*)-----\r?\n([\s\S]*?)\r?\n?-----END \1-----/;

/** The first PEM block → { type, bytes }, or null when there is none (pem.Decode returning nil). */
function decodePem(text) {
  const match = BLOCK.exec(text ?? '');
  if (!match) return null;
  // Header lines ("Proc-Type: …") precede a blank line; the base64 body follows it.
  const body = /^[^\n]*:/.test(match[2]) ? match[2].split(/\r?\n\r?\n/).slice(1).join('\n') : match[2];
  if (!/^[A-Za-z0-9+/=\s]*$/.test(body)) return null;
  return { type: match[1], bytes: Buffer.from(body.replace(/\s+/g, ''), 'base64') };
}

module.exports = { encodePem, decodePem };
