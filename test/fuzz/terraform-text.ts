/**
 * How Terraform reads a string of its JSON configuration: as a template (HCL's template syntax, which the JSON
 * syntax applies to every string it evaluates). `$${` and `%%{` are the literal `${` and `%{`; `${ … }` interpolates
 * an expression and `%{ … }` is a directive, each up to its own closing brace (braces and quoted strings inside
 * the expression nest). Used by the fuzz to find every interpolation a synthesized stack holds, and to give a
 * rendered file the text a machine would receive.
 */

/** One piece of a template. */
export type TemplatePart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'interpolation'; readonly expression: string }
  | { readonly kind: 'directive'; readonly body: string };

/** The pieces of `text` as Terraform reads them; an unterminated `${` or `%{` is returned as a part up to the end. */
export function templateParts(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if ((text.startsWith('$${', i) || text.startsWith('%%{', i))) {
      literal += `${text[i]}{`;
      i += 3;
      continue;
    }
    if (text.startsWith('${', i) || text.startsWith('%{', i)) {
      if (literal) {
        parts.push({ kind: 'literal', text: literal });
        literal = '';
      }
      const end = closingBrace(text, i + 2);
      const inner = text.slice(i + 2, end < 0 ? text.length : end);
      parts.push(text[i] === '$' ? { kind: 'interpolation', expression: inner } : { kind: 'directive', body: inner });
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    literal += text[i];
    i += 1;
  }
  if (literal) {
    parts.push({ kind: 'literal', text: literal });
  }
  return parts;
}

/** The offset of the `}` closing an expression that starts at `start`, or -1 (quoted strings and nested braces skipped). */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = closingQuote(text, i + 1);
      if (i < 0) {
        return -1;
      }
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

function closingQuote(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    if (text[i] === '\\') {
      i += 1;
    } else if (text[i] === '"') {
      return i;
    }
  }
  return -1;
}

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
