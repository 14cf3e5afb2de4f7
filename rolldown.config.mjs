// The shipped CLI as one bundle (npm run build: tsc, then `rolldown -c`): dist/cli/main.js and
// everything it imports, dependencies included, in dist/bundle/. Node then reads and links a few
// files instead of ~700 modules, which takes about a fifth off the start of `syncgate serve`,
// and about half when its keys come from Kubernetes (BENCHMARKS.md, "Fifth pass"). The commands
// stay separate chunks, loaded when run. openpgp is loaded at run time from node_modules (a
// createRequire in src/signatures/openpgp-lib.ts); the bundler leaves that require alone.
import { chmodSync } from 'node:fs';

/**
 * @kubernetes/client-node's index re-exports every generated API and model, so importing it runs
 * all of them. Its modules have no side effects we rely on except the `File` polyfill (a no-op on
 * Node ≥ 20), so they are marked side-effect free and the API groups syncgate does not call are
 * left out (3 of 75 stay; most models stay too: client-node's serializer refers to them all).
 */
const KUBE_CLIENT = /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]/;

/**
 * client-node's KubeConfig imports undici (~1.2 MB, ~10 MiB once loaded) for the agents of its
 * generated API classes, which syncgate does not use: src/kube/transport.ts sends its requests
 * with node:http(s). In the bundle, `undici` is this module instead, which loads the real package
 * from node_modules the first time one of its classes is used, so it is never loaded unless
 * something does use it. A name client-node imports that is missing here fails the build.
 */
const UNDICI_ON_FIRST_USE = '\0undici-on-first-use';
const undiciOnFirstUse = {
  name: 'undici-on-first-use',
  resolveId: (id) => (id === 'undici' ? UNDICI_ON_FIRST_USE : null),
  load: (id) =>
    id === UNDICI_ON_FIRST_USE
      ? `import { createRequire } from 'node:module';
let undici;
const load = () => (undici ??= createRequire(import.meta.url)('undici'));
export class Agent { constructor(...args) { return new (load().Agent)(...args); } }
export class ProxyAgent { constructor(...args) { return new (load().ProxyAgent)(...args); } }
export function fetch(...args) { return load().fetch(...args); }
`
      : null,
};

/**
 * iconv-lite's tables for Chinese, Japanese and Korean encodings (~420 kB of JSON). express.json
 * takes only UTF-8/16/32 bodies, so no route of syncgate decodes with them; left out of the
 * bundle, they are required from node_modules if something ever does (iconv-lite loads them on
 * first use), instead of sitting in the serve chunk's source (~1 MiB of RSS).
 */
const ICONV_TABLES = /[\\/]node_modules[\\/]iconv-lite[\\/]encodings[\\/]tables[\\/][^\\/]+\.json$/;

export default {
  input: { syncgate: 'dist/cli/main.js' },
  platform: 'node',
  external: (id) => ICONV_TABLES.test(id),
  treeshake: { moduleSideEffects: (id, external) => external || !KUBE_CLIENT.test(id) },
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    cleanDir: true,
    // V8 keeps each loaded chunk's source for lazy compilation, one byte per character only when
    // every character is Latin-1: one non-ASCII character left in a string, regex or comment
    // (the serve chunk had 70,000, mostly iconv-lite's tables) doubles the whole chunk. Escaped,
    // and without JSDoc, the sources take ~2.5 MiB less (BENCHMARKS.md, "Sixth pass").
    charset: 'ascii',
    comments: { legal: true, annotation: true, jsdoc: false },
  },
  plugins: [
    undiciOnFirstUse,
    {
      name: 'executable-entry',
      writeBundle(options, bundle) {
        for (const chunk of Object.values(bundle)) if (chunk.type === 'chunk' && chunk.isEntry) chmodSync(`${options.dir}/${chunk.fileName}`, 0o755);
      },
    },
  ],
};
