/**
 * openpgp.js as its minified CommonJS build: the package's own "require" export
 * (dist/node/openpgp.min.cjs), the same release and Node build as the "import" one
 * (dist/node/openpgp.mjs). The ESM file is 1.2 MB of commented source with non-Latin-1
 * characters in it, which V8 keeps for the life of the process as a 2.3 MiB two-byte string;
 * the minified build is 0.4 MB of ASCII and loads faster. Every use of openpgp.js in src/ goes
 * through this module, so there is one instance of the library (and of its config and classes).
 */
import { createRequire } from 'node:module';
import type * as OpenPgp from 'openpgp';

export const openpgp = createRequire(import.meta.url)('openpgp') as typeof OpenPgp;
