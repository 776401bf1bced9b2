import { createHash } from 'crypto';

/**
 * Terraform reads every string of its JSON configuration as a template: `${…}` interpolates an expression and
 * `%{…}` runs a directive. Text the library writes is literal, so it passes through {@link escapeTerraformTemplate}
 * once, where a construct hands it to a Terraform provider or resource: the rendered files (a VM's user data,
 * `proxmox-vm.ts`; a converge script, `host-converge.ts`; the kubeadm join preparation, `node-lifecycle.ts`), and
 * the site text that goes into attributes as it is (the provider's endpoint, `site-stack.ts`; a download's URL, file
 * name and checksum, `cloud-image.ts`; a container's SSH keys, `proxmox-lxc.ts`; a connection's host key,
 * `host-converge.ts`). Every other text the library writes is built from site fields whose validation admits no `$`
 * or `%`; test/site/site-text-in-terraform.test.ts puts template text into every string field of a site and checks,
 * with the real terraform CLI, that each one is either refused or arrives literally.
 *
 * References to other resources and variables are cdktf tokens inside that text and stay references. The site
 * model refuses text that holds a cdktf token marker (`constructs/site/validate/input.ts`), so every marker in the
 * text given here is one the library put there.
 */

/** A cdktf string token as it appears inside text before synthesis (`${TfToken[TOKEN.12]}`, encoding.ts of cdktf). */
const CDKTF_STRING_TOKEN = /\$\{TfToken\[[a-zA-Z0-9:._-]+\]\}/g;
/** The two template sequences Terraform evaluates; doubling the first character makes each one literal text. */
const TEMPLATE_SEQUENCE = /[$%]\{/g;
/** Dollar signs at the end of a run of literal text. */
const TRAILING_DOLLARS = /\$+$/;

/**
 * Makes `text` literal for Terraform while keeping the cdktf tokens in it (references, e.g. a generated password)
 * as interpolations. Apply it once to each text: escaping twice doubles the escapes.
 *
 * Each run of literal text between tokens is escaped (`${` → `$${`, `%{` → `%%{`, which Terraform reads back as
 * `${` and `%{`), and where a token follows, two more cases are closed:
 * - literal text ending in `$` would join the token's `${` into the escape `$${`, turning the reference into text:
 *   those dollars are written as the interpolated string `${"$"}`;
 * - cdktf renders a token that follows an unclosed `${` inside literal text as a bare expression without its
 *   braces (it takes the `${` for the start of a hand-written expression, TokenString.split in cdktf's
 *   encoding.ts): an empty interpolation `${""}` closes that first.
 * Both additions evaluate to the literal text itself.
 */
export function escapeTerraformTemplate(text: string): string {
  const tokens = text.match(CDKTF_STRING_TOKEN) ?? [];
  const literals = text.split(CDKTF_STRING_TOKEN);
  return literals.map((literal, i) => escapeLiteral(literal) + (tokens[i] ?? '')).join('');
}

/** One run of literal text, made safe to stand before a cdktf token (or at the end of the text). */
function escapeLiteral(literal: string): string {
  let escaped = literal.replace(TEMPLATE_SEQUENCE, (sequence) => `${sequence[0]}${sequence}`);
  const dollars = TRAILING_DOLLARS.exec(escaped);
  if (dollars) {
    return `${escaped.slice(0, dollars.index)}\${"${dollars[0]}"}`;
  }
  // Where cdktf sees an interpolation open (`${`) after the last `}`, a following token would lose its braces.
  if (escaped.lastIndexOf('${') > escaped.lastIndexOf('}')) {
    escaped += '${""}';
  }
  return escaped;
}

/** A short, stable fingerprint of text, for file names that must change when content changes. */
export function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** One piece of a template. */
export type TemplatePart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'interpolation'; readonly expression: string; readonly unterminated?: true }
  | { readonly kind: 'directive'; readonly body: string; readonly unterminated?: true };

/**
 * The pieces of `text` as Terraform reads it: as a template (HCL's template syntax, which the JSON syntax applies
 * to every string it evaluates). `$${` and `%%{` are the literal `${` and `%{`; `${ … }` interpolates an expression
 * and `%{ … }` is a directive, each up to its own closing brace (braces and quoted strings inside nest). An
 * unterminated `${` or `%{` is returned as a part up to the end, marked `unterminated`.
 */
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
      const unterminated = end < 0 ? { unterminated: true as const } : {};
      parts.push(text[i] === '$' ? { kind: 'interpolation', expression: inner, ...unterminated } : { kind: 'directive', body: inner, ...unterminated });
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
