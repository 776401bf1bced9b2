'use strict';
// Distinguished names as Go's crypto/x509/pkix writes and reads them: the `subject` block → pkix.Name
// (tls internal/provider/common_cert.go:348-400, createSubjectDistinguishedNames), pkix.Name.ToRDNSequence's order
// and string types, and FillFromRDNSequence (what a locally signed certificate keeps of a request's subject).
const der = require('./der');

const OID = {
  country: '2.5.4.6', province: '2.5.4.8', locality: '2.5.4.7', streetAddress: '2.5.4.9', postalCode: '2.5.4.17',
  organization: '2.5.4.10', organizationalUnit: '2.5.4.11', commonName: '2.5.4.3', serialNumber: '2.5.4.5',
  emailAddress: '1.2.840.113549.1.9.1',
};
// ToRDNSequence's order: one RDN per field, all values of a multi-valued field in that one RDN.
const LIST_FIELDS = ['country', 'province', 'locality', 'streetAddress', 'postalCode', 'organization', 'organizationalUnit'];

const emptyName = () => ({
  country: [], province: [], locality: [], streetAddress: [], postalCode: [], organization: [], organizationalUnit: [],
  commonName: '', serialNumber: '', extraNames: [], parsedAttributes: 0,
});

/** The `subject` block element (or null) → name, as createSubjectDistinguishedNames builds it. */
function nameFromSubject(subject) {
  const name = emptyName();
  if (!subject) return name;
  const single = (value) => (typeof value === 'string' ? [value] : []);
  name.commonName = typeof subject.common_name === 'string' ? subject.common_name : '';
  name.organization = single(subject.organization);
  name.organizationalUnit = single(subject.organizational_unit);
  name.streetAddress = Array.isArray(subject.street_address) ? subject.street_address.filter((v) => typeof v === 'string') : [];
  name.locality = single(subject.locality);
  name.province = single(subject.province);
  name.country = single(subject.country);
  name.postalCode = single(subject.postal_code);
  name.serialNumber = typeof subject.serial_number === 'string' ? subject.serial_number : '';
  if (typeof subject.email_address === 'string') {
    // common_cert.go:389-397: an ExtraNames entry with an explicit IA5String value.
    name.extraNames.push({ oid: OID.emailAddress, value: der.ia5String(subject.email_address) });
  }
  return name;
}

/** cmp.Equal(name, pkix.Name{}) of common_cert.go:165: nothing set and, for a parsed name, no attribute at all. */
function isEmptyName(name) {
  return LIST_FIELDS.every((field) => name[field].length === 0) && name.commonName === '' && name.serialNumber === ''
    && name.extraNames.length === 0 && name.parsedAttributes === 0;
}

// encoding/asn1 marshal.go: a Go string is a PrintableString when every character is in this set ('*' and '&'
// rejected when marshalling), otherwise a UTF8String.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function stringValue(text) {
  return PRINTABLE.test(text) ? der.printableString(text) : der.utf8String(text);
}

function attribute(oid, valueDer) {
  return der.sequence(der.oid(oid), valueDer);
}

/** pkix.Name.ToRDNSequence → the DER of the Name (a SEQUENCE of SETs). */
function encodeName(name) {
  const rdns = [];
  const append = (values, oid) => {
    if (values.length === 0 || name.extraNames.some((extra) => extra.oid === oid)) return;
    rdns.push(der.setOf(...values.map((value) => attribute(oid, stringValue(value)))));
  };
  for (const field of LIST_FIELDS) append(name[field], OID[field]);
  if (name.commonName.length > 0) append([name.commonName], OID.commonName);
  if (name.serialNumber.length > 0) append([name.serialNumber], OID.serialNumber);
  for (const extra of name.extraNames) rdns.push(der.setOf(attribute(extra.oid, extra.value)));
  return der.sequence(...rdns);
}

const STRING_TAGS = new Set([der.TAG.UTF8_STRING, der.TAG.PRINTABLE_STRING, der.TAG.IA5_STRING, 0x12 /* Numeric */, 0x14 /* T61 */, 0x1e /* BMP */]);

function decodeString(node) {
  if (node.tag === 0x1e) return Buffer.from(node.content).swap16().toString('utf16le');
  return node.content.toString(node.tag === der.TAG.UTF8_STRING ? 'utf8' : 'latin1');
}

const FIELD_BY_OID = Object.fromEntries(Object.entries(OID).filter(([field]) => field !== 'emailAddress').map(([field, oid]) => [oid, field]));

/**
 * pkix.Name.FillFromRDNSequence: string values of the 2.5.4.x attributes it knows fill the typed fields; anything
 * else (e.g. an emailAddress) is only in Names, which ToRDNSequence does not write back.
 */
function parseName(nameDer) {
  const name = emptyName();
  for (const rdn of der.read(nameDer).children()) {
    for (const atv of rdn.children()) {
      name.parsedAttributes += 1;
      const [typeNode, valueNode] = atv.children();
      const field = FIELD_BY_OID[der.oidText(typeNode.content)];
      if (!field || !STRING_TAGS.has(valueNode.tag)) continue;
      const value = decodeString(valueNode);
      if (field === 'commonName' || field === 'serialNumber') name[field] = value;
      else name[field].push(value);
    }
  }
  return name;
}

module.exports = { nameFromSubject, encodeName, parseName, isEmptyName, OID };
