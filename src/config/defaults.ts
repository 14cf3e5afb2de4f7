import type { ConfigInput } from './schema.js';

export { PACKAGE_ROOT } from '../package-root.js';

/** Fingerprint of keys.example/dev-signing-key.pub.asc. Development only. */
export const EXAMPLE_SIGNER_FINGERPRINT = 'C503BE2428F6AF82B0BC0D959C6248A8E70FAD5C';

/**
 * The configuration used when no --config is given: the example trust material, so that
 * `npm start` on a fresh clone runs a working gate. Never for production.
 */
export const EMBEDDED_DEFAULTS: ConfigInput = {
  trust: {
    keyrings: ['keys.example/dev-signing-key.pub.asc'],
    rules: [{ repositories: ['**'], openpgp: { fingerprints: [EXAMPLE_SIGNER_FINGERPRINT] } }],
  },
  policies: { paths: ['policies'] },
  sealing: { keyFiles: ['keys.example/sealing'] },
  audit: { path: 'data/audit.jsonl' },
};
