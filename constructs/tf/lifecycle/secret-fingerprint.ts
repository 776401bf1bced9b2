/**
 * The values a rendered text receives from Terraform (generated passwords, keys, certificates, variables) are not
 * in the synthesized text, only their expressions (`${random_password.x.result}`), so a fingerprint of the text
 * stays the same when one of them is rotated. This module finds those expressions and builds a Terraform
 * expression that hashes their resolved values: it changes exactly when a value changes, and holds a hash, never a
 * value (Terraform also marks it sensitive when any input is, so plans show `(sensitive value)`).
 */
import { templateParts } from '../terraform-template';

/**
 * The Terraform expressions interpolated in `text` (`${…}`, not the escaped `$${…}`), in order of first
 * appearance, without duplicates (Terraform's template reading: {@link templateParts}).
 */
export function interpolatedExpressions(text: string): string[] {
  const found: string[] = [];
  for (const part of templateParts(text)) {
    if (part.kind !== 'interpolation') {
      continue;
    }
    if (part.unterminated) {
      throw new Error(`an interpolation without its closing brace: ${JSON.stringify(`\${${part.expression.slice(0, 58)}`)}`);
    }
    const expression = part.expression.trim();
    if (expression && !found.includes(expression)) {
      found.push(expression);
    }
  }
  return found;
}

/**
 * A Terraform expression whose value is the SHA-256 of the resolved values of every expression interpolated in
 * `text` (sorted, so the order of appearance does not matter), or undefined when `text` interpolates nothing.
 */
export function resolvedValuesFingerprint(text: string): string | undefined {
  const expressions = interpolatedExpressions(text).sort();
  return expressions.length === 0 ? undefined : `\${sha256(join("\\n", [${expressions.join(', ')}]))}`;
}
