/**
 * Terraform's template reading (`templateParts`, in the library's terraform-template.ts) applied by the fuzz: every
 * interpolation a synthesized stack holds, and the text a machine would receive from a rendered file.
 */

import { TemplatePart, templateParts } from '../../constructs/tf/terraform-template';

export { TemplatePart, templateParts };

/** Every interpolation and directive in every string of a JSON value, with the JSON path of its string. */
export function templateSequences(value: unknown, path = ''): { path: string; part: Exclude<TemplatePart, { kind: 'literal' }> }[] {
  if (typeof value === 'string') {
    return templateParts(value).filter((part): part is Exclude<TemplatePart, { kind: 'literal' }> => part.kind !== 'literal').map((part) => ({ path, part }));
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => templateSequences(item, `${path}[${i}]`));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => [
      ...templateSequences(key, `${path}{key ${key}}`),
      ...templateSequences(item, path ? `${path}.${key}` : key),
    ]);
  }
  return [];
}

/** A public key a machine could receive for the admin key variable (the test's own, no secret). */
const SAMPLE_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKtestkeyonlyfortests operator@example';
/** What a machine receives for any other expression (a generated password, a certificate, a variable). */
const SAMPLE_SECRET = 'PLACEHOLDER-SECRET-0123456789';

/**
 * The text a machine receives from a template: escapes undone, a quoted string expression (`${"$"}`) evaluated,
 * every other expression replaced by a plausible value (an SSH public key for the admin key, a placeholder else).
 */
export function machineText(text: string): string {
  return templateParts(text).map((part) => {
    if (part.kind === 'literal') {
      return part.text;
    }
    if (part.kind === 'directive') {
      throw new Error(`a template directive %{${part.body}} in a rendered file`);
    }
    const expression = part.expression.trim();
    if (/^"([^"\\$%]|\\.)*"$/.test(expression)) {
      return JSON.parse(expression) as string;
    }
    return expression.includes('ssh_public_key') ? SAMPLE_PUBLIC_KEY : SAMPLE_SECRET;
  }).join('');
}
