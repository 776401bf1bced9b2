'use strict';
// Just enough ASN.1 DER (X.690) to write certificates and requests the way Go's encoding/asn1 and crypto/x509 do,
// and to read back the parts the tls resources need. Encoders return Buffers; `read` returns nodes
// { tag, constructed, content, raw, children() }.

const TAG = {
  BOOLEAN: 0x01, INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06,
  UTF8_STRING: 0x0c, PRINTABLE_STRING: 0x13, IA5_STRING: 0x16, UTC_TIME: 0x17, GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30, SET: 0x31,
};

function lengthBytes(length) {
  if (length < 0x80) return Buffer.from([length]);
  const bytes = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag, content) {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

const sequence = (...items) => tlv(TAG.SEQUENCE, Buffer.concat(items));

/** SET OF in DER order: the encodings sorted as byte strings (X.690 11.6; Go sorts since 1.15). */
const setOf = (...items) => tlv(TAG.SET, Buffer.concat([...items].sort(Buffer.compare)));

/** An INTEGER from a bigint, a number, or an unsigned big-endian Buffer: minimal two's complement. */
function integer(value) {
  let bytes;
  if (Buffer.isBuffer(value)) {
    bytes = value;
  } else {
    const big = BigInt(value);
    if (big < 0n) throw new Error('der.integer: negative integers are not needed here');
    const hex = big.toString(16);
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.INTEGER, bytes);
}

function oid(dotted) {
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const base128 = (arc) => {
    const out = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) out.unshift(Number(rest & 0x7fn) | 0x80);
    return out;
  };
  const body = [...base128(arcs[0] * 40n + arcs[1]), ...arcs.slice(2).flatMap(base128)];
  return tlv(TAG.OID, Buffer.from(body));
}

const boolean = (value) => tlv(TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
const nullValue = () => tlv(TAG.NULL, Buffer.alloc(0));
const octetString = (bytes) => tlv(TAG.OCTET_STRING, bytes);
const bitString = (bytes, unusedBits = 0) => tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
const utf8String = (text) => tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
const printableString = (text) => tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
const ia5String = (text) => tlv(TAG.IA5_STRING, Buffer.from(text, 'latin1'));

/** [n] EXPLICIT: a constructed context-specific wrapper. */
const explicit = (number, content) => tlv(0xa0 | number, content);
/** [n] IMPLICIT of a primitive (e.g. GeneralName dNSName) or, with `constructed`, of a SEQUENCE/SET's content. */
const implicit = (number, content, constructed = false) => tlv((constructed ? 0xa0 : 0x80) | number, content);

const pad = (n, width = 2) => String(n).padStart(width, '0');

/**
 * A time as Go's encoding/asn1 writes a time.Time field of x509 validity: UTCTime from 1950 to 2049, otherwise
 * GeneralizedTime; whole seconds, UTC ("Z").
 */
function time(date) {
  const year = date.getUTCFullYear();
  const rest = `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(`${pad(year % 100)}${rest}`, 'latin1'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${pad(year, 4)}${rest}`, 'latin1'));
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** The TLV at `offset` of `buffer`; throws naming the offset on malformed input. */
function read(buffer, offset = 0) {
  if (offset + 2 > buffer.length) throw new Error(`DER: truncated element at byte ${offset}`);
  const tag = buffer[offset];
  let length = buffer[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || offset + 2 + count > buffer.length) throw new Error(`DER: bad length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + buffer[offset + 2 + i];
    header += count;
  }
  const end = offset + header + length;
  if (end > buffer.length) throw new Error(`DER: element at byte ${offset} runs past the end`);
  const content = buffer.subarray(offset + header, end);
  return {
    tag,
    constructed: (tag & 0x20) !== 0,
    content,
    raw: buffer.subarray(offset, end),
    end,
    children() {
      const nodes = [];
      for (let at = 0; at < content.length;) {
        const node = read(content, at);
        nodes.push(node);
        at = node.end;
      }
      return nodes;
    },
  };
}

/** The dotted text of an OBJECT IDENTIFIER node's content. */
function oidText(content) {
  const arcs = [];
  let value = 0n;
  for (const byte of content) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  const first = arcs[0] < 80n ? arcs[0] / 40n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join('.');
}

module.exports = {
  TAG, sequence, setOf, integer, oid, boolean, nullValue, octetString, bitString, utf8String, printableString,
  ia5String, explicit, implicit, time, read, oidText,
};
