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
 * Packages client-node's KubeConfig (and src/kube/transport.ts, for the proxy agents) imports at
 * load for what only some kubeconfigs, or none of syncgate's requests, use. In the bundle each is a small module instead, which requires the real
 * package from node_modules the first time one of the listed exports is used:
 *
 * - undici (~1.2 MB, ~10 MiB once loaded): the fetch and agents of client-node's generated API
 *   classes, which syncgate does not use (src/kube/transport.ts sends its requests with
 *   node:http(s)), so it is never loaded;
 * - socks-proxy-agent, socks, hpagent: the agents for a cluster's `proxy-url` (client-node builds
 *   one when applyToHTTPSOptions runs; src/kube/transport.ts sends through its own);
 * - jsonpath-plus: the token paths of the gcp and azure auth-providers.
 *
 * Together ~1 MiB of idle RSS with keys from Kubernetes, besides undici's. Classes are
 * constructed with `new` only and never extended or tested with instanceof by either; a
 * name it imports that is missing here fails the build, and test/bundle.test.ts loads each
 * package as the bundle will.
 */
export const ON_FIRST_USE = {
  undici: { classes: ['Agent', 'ProxyAgent'], functions: ['fetch'] },
  'socks-proxy-agent': { classes: ['SocksProxyAgent'] },
  socks: { statics: { SocksClient: ['createConnection'] } },
  hpagent: { classes: ['HttpProxyAgent', 'HttpsProxyAgent'] },
  'jsonpath-plus': { functions: ['JSONPath'] },
};

const FIRST_USE_PREFIX = '\0on-first-use:';
function firstUseModule(name, { classes = [], functions = [], statics = {} }) {
  return [
    `import { createRequire } from 'node:module';`,
    `let loaded;`,
    `const load = () => (loaded ??= createRequire(import.meta.url)(${JSON.stringify(name)}));`,
    ...classes.map((c) => `export class ${c} { constructor(...args) { return new (load().${c})(...args); } }`),
    ...functions.map((f) => `export function ${f}(...args) { return load().${f}(...args); }`),
    ...Object.entries(statics).map(([o, methods]) => `export const ${o} = { ${methods.map((m) => `${m}: (...args) => load().${o}.${m}(...args)`).join(', ')} };`),
  ].join('\n');
}
const loadOnFirstUse = {
  name: 'load-on-first-use',
  resolveId: (id) => (Object.hasOwn(ON_FIRST_USE, id) ? FIRST_USE_PREFIX + id : null),
  load: (id) => (id.startsWith(FIRST_USE_PREFIX) ? firstUseModule(id.slice(FIRST_USE_PREFIX.length), ON_FIRST_USE[id.slice(FIRST_USE_PREFIX.length)]) : null),
};

/**
 * `import http from 'node:http'` (client-node's KubeConfig has one) makes node build an ES module
 * of node:http, which reads every export, and three of them (WebSocket, CloseEvent, MessageEvent)
 * are getters that load undici with ~70 other internal modules (~2 MiB idle RSS with keys from
 * Kubernetes). In the bundle, such an import takes node:http as process.getBuiltinModule returns
 * it instead, with the same exports save those three (a name imported from them fails the build),
 * as src/server/start.ts and src/kube/transport.ts take it themselves. require('http') in bundled
 * CommonJS never built that module and is left alone.
 */
const NODE_HTTP = '\0node:http-without-getters';
const NODE_HTTP_EXPORTS = Object.entries(Object.getOwnPropertyDescriptors(process.getBuiltinModule('node:http')))
  .filter(([, descriptor]) => 'value' in descriptor)
  .map(([name]) => name);
const nodeHttpWithoutGetters = {
  name: 'node-http-without-getters',
  resolveId: (id, _importer, { kind }) => ((id === 'node:http' || id === 'http') && kind === 'import-statement' ? NODE_HTTP : null),
  load: (id) =>
    id === NODE_HTTP
      ? `const http = process.getBuiltinModule('node:http');\nexport default http;\nexport const { ${NODE_HTTP_EXPORTS.join(', ')} } = http;\n`
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
    loadOnFirstUse,
    nodeHttpWithoutGetters,
    {
      name: 'executable-entry',
      writeBundle(options, bundle) {
        for (const chunk of Object.values(bundle)) if (chunk.type === 'chunk' && chunk.isEntry) chmodSync(`${options.dir}/${chunk.fileName}`, 0o755);
      },
    },
  ],
};
