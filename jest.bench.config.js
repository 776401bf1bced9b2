// Benchmarks run through jest (they share the test lab's TypeScript), one file at a time, never in `npm test`.
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = { ...base, testMatch: ['**/*.bench.ts'], testTimeout: 4 * 3600 * 1000, maxWorkers: 1 };
