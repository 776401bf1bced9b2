'use strict';
// What several tls 4.1.0 resources share (internal/provider/common.go): the id hash and the PEM replacement rule.
const crypto = require('crypto');
const { requiresReplaceIf } = require('../plugin-framework/modifiers');

// Go's unicode.IsSpace: the White_Space code points.
const SPACE_CODE_POINTS = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);

/**
 * The last UTF-8 sequence of `bytes` ending at `end` → { codePoint, size }, or null when it is not valid UTF-8
 * (utf8.DecodeLastRune's RuneError, which is not a space).
 */
function lastRune(bytes, end) {
  for (let size = 1; size <= 4 && end - size >= 0; size += 1) {
    const slice = bytes.subarray(end - size, end);
    const lead = slice[0];
    const expected = lead < 0x80 ? 1 : (lead >> 5) === 0x6 ? 2 : (lead >> 4) === 0xe ? 3 : (lead >> 3) === 0x1e ? 4 : 0;
    if (expected === 0) continue; // a continuation byte: look one further back
    if (expected !== size) return null;
    const text = slice.toString('utf8');
    if (text.includes('\ufffd') || Buffer.byteLength(text) !== size) return null;
    return { codePoint: text.codePointAt(0), size };
  }
  return null;
}

/** strings.TrimSpace over bytes (the ids hash DER bytes as a Go string). */
function trimSpace(bytes) {
  let start = 0;
  while (start < bytes.length) {
    const byte = bytes[start];
    if (byte >= 0x80) break;
    if (!SPACE_CODE_POINTS.has(byte)) break;
    start += 1;
  }
  if (start < bytes.length && bytes[start] >= 0x80) {
    // TrimFunc on the rest: leading non-ASCII spaces too.
    for (;;) {
      const text = bytes.subarray(start, start + 4).toString('utf8');
      const codePoint = text.codePointAt(0);
      if (codePoint === 0xfffd || !SPACE_CODE_POINTS.has(codePoint)) break;
      start += Buffer.byteLength(String.fromCodePoint(codePoint));
    }
  }
  let end = bytes.length;
  while (end > start) {
    const rune = lastRune(bytes, end);
    if (!rune || !SPACE_CODE_POINTS.has(rune.codePoint)) break;
    end -= rune.size;
  }
  return bytes.subarray(start, end);
}

/** hashForState (common.go:21-27): hex SHA-1 of the value with surrounding white space trimmed; '' stays ''. */
function hashForState(bytes) {
  if (bytes.length === 0) return '';
  return crypto.createHash('sha1').update(trimSpace(Buffer.from(bytes))).digest('hex');
}

const PEM_STRING = /^-----BEGIN [A-Za-z ]+-----\n(.|\s)+\n-----END [A-Za-z ]+-----\n?$/;

/**
 * requireReplaceIfStateContainsPEMString (common.go:50-65): a change replaces the resource when the prior value is a
 * PEM string (the regexp there, [[:alpha:]] being A-Za-z).
 */
function requireReplaceIfStateContainsPemString() {
  return requiresReplaceIf(({ stateValue }) => typeof stateValue === 'string' && PEM_STRING.test(stateValue));
}

module.exports = { hashForState, requireReplaceIfStateContainsPemString };
