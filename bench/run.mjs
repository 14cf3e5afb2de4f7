#!/usr/bin/env node
// npm run bench [-- SCENARIO...]: runs the named scenarios (all when none is named) on the built
// code in dist/, prints figures side by side with the reference tool where there is one.
// Benchmarks are not tests: nothing here asserts a time.
import os from 'node:os';

const SCENARIOS = {
  verify: () => import('./verify.mjs'),
  seal: () => import('./seal.mjs'),
  policy: () => import('./policy.mjs'),
  audit: () => import('./audit.mjs'),
  gate: () => import('./gate.mjs'),
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !(n in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}

console.log(`# syncgate benchmarks`);
console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; node ${process.version}; ${new Date().toISOString()}`);
for (const name of names.length > 0 ? names : Object.keys(SCENARIOS)) {
  const mod = await SCENARIOS[name]();
  console.log(`\n## ${name}${quick ? ' (quick)' : ''}`);
  await mod.run({ quick });
}
