/** Quotes a string for POSIX sh: single quotes, with embedded single quotes closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.split("'").join("'\\''")}'`;
}
