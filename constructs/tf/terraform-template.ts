import { createHash } from 'crypto';

/** cdktf's unresolved token marker: `${TfToken[TOKEN.123]}`; everything else is literal text. */
const LITERAL_TEMPLATE_SEQUENCE = /(\$\{(?!TfToken\[)|%\{)/g;

/**
 * Escapes literal `${` and `%{` so Terraform does not read rendered files (shell scripts, configs) as templates,
 * while leaving cdktf tokens — references such as a generated password — to be interpolated.
 */
export function escapeTerraformTemplate(text: string): string {
  return text.replace(LITERAL_TEMPLATE_SEQUENCE, (sequence) => `${sequence[0]}${sequence}`);
}

/** A short, stable fingerprint of text, for file names that must change when content changes. */
export function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
