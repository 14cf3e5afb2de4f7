// gitsign commit verification: the real offline-mode gitsign commits of ../shared/corpus/sigstore
// (CMS + Fulcio chain + SCT + Rekor SET/inclusion proof/checkpoint, offline against the pinned
// trusted_root.json), verified by syncgate's SignatureVerifier with the cache off (every call does
// the full work) and with it on. There is no reference tool to compare with here: gitsign (and
// cosign) are Go binaries that are not in the npm registry or the Debian archive, so only
// syncgate's per-signature time is printed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { GitsignVerifier, TrustedRootStore } from '../dist/signatures/gitsign/index.js';
import { Keyring } from '../dist/signatures/keyring.js';
import { SignatureVerifier } from '../dist/signatures/verify.js';
import { fmt } from './verify-timing.mjs';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'corpus', 'sigstore');

export async function run({ quick }) {
  const manifest = path.join(corpus, 'commits', 'manifest.json');
  if (!existsSync(manifest)) {
    console.log(`gitsign: corpus not found at ${corpus}; skipped`);
    return;
  }
  const offline = JSON.parse(readFileSync(manifest, 'utf8')).commits.filter((c) => c.offlineRekorEmbedded);
  const raws = offline.map((c) => readFileSync(path.join(corpus, 'commits', c.file)));
  const identities = [...new Map(offline.map((c) => [c.signerSAN[0], { issuer: c.oidcIssuer, subject: c.signerSAN[0].replace(/^email:/, '') }])).values()];
  const store = await TrustedRootStore.open(path.join(corpus, 'trusted_root.json'));
  const rules = [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, gitsign: { identities, requireCommitterMatch: false } }];
  const make = (cacheSize) => new SignatureVerifier({ keyring: new Keyring(), trust: { keyrings: [], rules }, cacheSize, methods: [new GitsignVerifier({ trustedRoot: store })] });
  const now = new Date('2026-11-21T00:00:00Z');
  const rounds = quick ? 5 : 50;

  const uncached = make(0);
  for (const raw of raws) {
    const r = await uncached.verifyObject({ raw, kind: 'commit', now });
    if (!r.verified) throw new Error(`bench commit not verified: ${r.reason?.code} ${r.reason?.message}`);
  }
  let start = performance.now();
  for (let i = 0; i < rounds; i++) for (const raw of raws) await uncached.verifyObject({ raw, kind: 'commit', now });
  const full = (performance.now() - start) / (rounds * raws.length);

  const cached = make(raws.length * 2);
  for (const raw of raws) await cached.verifyObject({ raw, kind: 'commit', now });
  start = performance.now();
  for (let i = 0; i < rounds; i++) for (const raw of raws) await cached.verifyObject({ raw, kind: 'commit', now });
  const hit = (performance.now() - start) / (rounds * raws.length);

  console.log(`gitsign: ${raws.length} real offline-mode commits x ${rounds} rounds, pinned trusted root, no network`);
  console.log('  reference (gitsign verify)  not available here (a Go binary; not in the npm registry or Debian): no ratio');
  console.log(`  syncgate, full verification ${fmt(full)} per signature (CMS, ECDSA, chain, SCT, SET, inclusion proof, checkpoint, identity)`);
  console.log(`  syncgate, cached            ${fmt(hit)} per signature`);
}
