'use strict';
// random.CreateString of terraform-provider-random v3.7.2 (internal/random/string.go:26-110), with a
// cryptographic random source as there: the minimum counts of each class first, the rest from the whole set,
// then the bytes shuffled.
const crypto = require('crypto');

const NUMERIC = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
// string.go:30 (also in the schema's description of `special`).
const DEFAULT_SPECIAL = '!@#$%&*()-_=+[]{}<>:?';

function randomCharacters(characterSet, count) {
  if (characterSet.length === 0 && count > 0) throw new Error('charSet is empty');
  return Array.from({ length: Math.max(count, 0) }, () => characterSet[crypto.randomInt(characterSet.length)]);
}

/**
 * `params`: { length, upper, minUpper, lower, minLower, numeric, minNumeric, special, minSpecial, overrideSpecial }.
 * Like the original, the min_* counts apply even when their class is switched off (string.go:55-70), and an empty
 * override_special means the default special set (string.go:33-35). Throws the original's error text.
 */
function createString(params) {
  const special = params.overrideSpecial ? params.overrideSpecial : DEFAULT_SPECIAL;
  const characterSet = (params.upper ? UPPER : '') + (params.lower ? LOWER : '') + (params.numeric ? NUMERIC : '') + (params.special ? special : '');
  if (characterSet === '') throw new Error('the character set specified is empty');
  const result = [
    ...randomCharacters(NUMERIC, params.minNumeric),
    ...randomCharacters(LOWER, params.minLower),
    ...randomCharacters(UPPER, params.minUpper),
    ...randomCharacters(special, params.minSpecial),
  ];
  result.push(...randomCharacters(characterSet, params.length - result.length));
  // string.go:79-86 orders the bytes by random keys; a Fisher–Yates shuffle gives the same kind of permutation.
  for (let i = result.length - 1; i > 0; i -= 1) {
    const j = crypto.randomInt(i + 1);
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result.join('');
}

module.exports = { createString };
