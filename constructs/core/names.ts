/** A DNS label per RFC 1123: 1–63 lower-case letters, digits and hyphens, not starting or ending with a hyphen. */
export function isRfc1123Label(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(value);
}

/**
 * A DNS name of one or more RFC 1123 labels separated by dots, at most 253 characters, no trailing dot. The last
 * label may not be all digits (RFC 1123 §2.1), so a mistyped IPv4 address is not taken for a name.
 */
export function isDnsName(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 253) {
    return false;
  }
  const labels = value.split('.');
  return labels.every(isRfc1123Label) && !/^\d+$/.test(labels[labels.length - 1]);
}

/** A fully qualified DNS name: a DNS name with at least two labels. */
export function isFqdn(value: unknown): value is string {
  return isDnsName(value) && value.includes('.');
}

/** A TCP/UDP port number. */
export function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

/** A positive integer within [min, max]. */
export function isIntegerInRange(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}
