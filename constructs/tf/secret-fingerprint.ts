/**
 * The values a rendered text receives from Terraform (generated passwords, keys, certificates, variables) are not
 * in the synthesized text, only their expressions (`${random_password.x.result}`), so a fingerprint of the text
 * stays the same when one of them is rotated. This module finds those expressions and builds a Terraform
 * expression that hashes their resolved values: it changes exactly when a value changes, and holds a hash, never a
 * value (Terraform also marks it sensitive when any input is, so plans show `(sensitive value)`).
 */

/**
 * The Terraform expressions interpolated in `text` (`${…}`, not the escaped `$${…}`), in order of first
 * appearance, without duplicates. Braces inside an expression (object constructors) and quoted strings are
 * followed, so an expression ends at its own closing brace.
 */
export function interpolatedExpressions(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      i += 1;
      continue;
    }
    const end = closingBrace(text, i + 2);
    if (end < 0) {
      throw new Error(`an interpolation without its closing brace at offset ${i}: ${JSON.stringify(text.slice(i, i + 60))}`);
    }
    const expression = text.slice(i + 2, end).trim();
    if (expression && !found.includes(expression)) {
      found.push(expression);
    }
    i = end + 1;
  }
  return found;
}

/** The offset of the `}` that closes an interpolation whose expression starts at `start`, or -1. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') {
        i += 1;
      } else if (c === '"') {
        quoted = false;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === '{') {
      depth += 1;
    } else if (c === '}') {
      if (depth === 0) {
        return i;
      }
      depth -= 1;
    }
  }
  return -1;
}

/**
 * A Terraform expression whose value is the SHA-256 of the resolved values of every expression interpolated in
 * `text` (sorted, so the order of appearance does not matter), or undefined when `text` interpolates nothing.
 */
export function resolvedValuesFingerprint(text: string): string | undefined {
  const expressions = interpolatedExpressions(text).sort();
  return expressions.length === 0 ? undefined : `\${sha256(join("\\n", [${expressions.join(', ')}]))}`;
}
