/**
 * Conformance over ../shared/corpus/sigstore:
 *  - every real gitsign commit in commits/ (manifest.json): offline-mode commits must verify
 *    against the pinned trusted_root.json with the identities the manifest lists, the pre-release
 *    prototypes must be rejected (REKOR_ENTRY_MALFORMED), online-mode commits must be denied
 *    without a Rekor URL (REKOR_ENTRY_MISSING);
 *  - the Sigstore bundle-verify conformance suite (conformance/bundle-verify, 70 cases) through
 *    syncgate's Sigstore layer (strict trusted-root loading + @sigstore/verify).
 * Skips with a message when the corpus is absent. Prints counts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { verifySigstoreBundle } from '../../src/signatures/gitsign/bundle-verify.js';
import { GitsignVerifier } from '../../src/signatures/gitsign/verifier.js';
import { TrustedRootStore, parseTrustedRoot } from '../../src/signatures/gitsign/trusted-root.js';
import { Keyring } from '../../src/signatures/keyring.js';
import { SignatureVerifier } from '../../src/signatures/verify.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = path.resolve(repoRoot, '..', 'shared', 'corpus', 'sigstore');
const manifestFile = path.join(corpus, 'commits', 'manifest.json');
const suiteDir = path.join(corpus, 'conformance', 'bundle-verify');
const suiteManifest = path.join(corpus, 'conformance', 'manifest.json');
const NOW = new Date('2026-11-21T00:00:00Z');

const present = existsSync(manifestFile) && existsSync(suiteManifest);
if (!present) console.log(`[conformance] Sigstore corpus not found at ${corpus}: suite skipped`);

interface CommitEntry {
  sha: string;
  file: string;
  signerSAN: string[];
  oidcIssuer: string;
  offlineRekorEmbedded: boolean;
  format: string;
  rekor?: { logIndex: string; integratedTimeISO: string };
}
const commits: CommitEntry[] = present ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as { commits: CommitEntry[] }).commits : [];
const kindOf = (c: CommitEntry): 'offline' | 'prototype' | 'online' => (c.offlineRekorEmbedded ? 'offline' : c.format.startsWith('PRE-RELEASE') ? 'prototype' : 'online');
const subjectOf = (c: CommitEntry): string => (c.signerSAN[0] ?? '').replace(/^(email|url):/, '');

describe.skipIf(!present)('gitsign corpus commits (sigstore/commits)', () => {
  const counts = { offline: [0, 0], prototype: [0, 0], online: [0, 0] } as Record<'offline' | 'prototype' | 'online', [number, number]>;
  let verifier: SignatureVerifier;

  afterAll(() => {
    console.log(
      `[conformance] gitsign commits: offline ${counts.offline[0]}/${counts.offline[1]} verified; ` +
        `prototypes ${counts.prototype[0]}/${counts.prototype[1]} rejected; online ${counts.online[0]}/${counts.online[1]} denied (REKOR_ENTRY_MISSING, no Rekor URL)`,
    );
  });

  it.each(commits.map((c) => [`${kindOf(c)} ${c.sha}`, c] as const))('%s', async (_name, c) => {
    if (!verifier) {
      const identities = [...new Map(commits.filter((x) => kindOf(x) === 'offline').map((x) => [`${x.oidcIssuer} ${subjectOf(x)}`, { issuer: x.oidcIssuer, subject: subjectOf(x) }])).values()];
      const store = await TrustedRootStore.open(path.join(corpus, 'trusted_root.json'));
      verifier = new SignatureVerifier({
        keyring: new Keyring(),
        trust: { keyrings: [], rules: [{ repositories: ['**'], gitsign: { identities, requireCommitterMatch: false } }] } as never,
        methods: [new GitsignVerifier({ trustedRoot: store })],
      });
    }
    const raw = readFileSync(path.join(corpus, 'commits', c.file));
    const result = await verifier.verifyObject({ raw, kind: 'commit', now: NOW });
    const kind = kindOf(c);
    counts[kind][1]++;
    expect(result.oid).toBe(c.sha);
    expect(result.method).toBe('gitsign');
    if (kind === 'offline') {
      expect(result.reason).toBeUndefined();
      expect(result.verified).toBe(true);
      expect(result.signer?.gitsign).toMatchObject({ issuer: c.oidcIssuer, subject: subjectOf(c), rekorLogIndex: c.rekor?.logIndex, integratedTime: c.rekor?.integratedTimeISO, rekorSource: 'embedded' });
    } else {
      expect(result.verified).toBe(false);
      expect(result.reason?.code).toBe(kind === 'prototype' ? 'REKOR_ENTRY_MALFORMED' : 'REKOR_ENTRY_MISSING');
    }
    counts[kind][0]++;
  });
});

interface SuiteCase {
  name: string;
  expected: 'pass' | 'fail';
  artifact: string;
  trustedRoot: string;
  identity: string;
  issuer: string;
  managedKey: boolean;
}
const suite = present ? (JSON.parse(readFileSync(suiteManifest, 'utf8')) as { defaults: { identity: string; issuer: string }; cases: SuiteCase[] }) : { defaults: { identity: '', issuer: '' }, cases: [] };

/** One case as upstream runs it (test/client.py): bundle, artifact, trusted root, identity or key. */
function runCase(c: SuiteCase): { ok: boolean; code?: string; message?: string } {
  const dir = path.join(suiteDir, c.name);
  try {
    const bundle: unknown = JSON.parse(readFileSync(path.join(dir, 'bundle.sigstore.json'), 'utf8'));
    const rootFile = c.trustedRoot === 'PRODUCTION' ? path.join(corpus, 'trusted_root.json') : path.join(dir, 'trusted_root.json');
    const trustedRoot = parseTrustedRoot(readFileSync(rootFile));
    const artifact = readFileSync(path.resolve(dir, c.artifact));
    const keyFile = path.join(dir, 'key.pub');
    if (c.managedKey && existsSync(keyFile)) {
      verifySigstoreBundle({ bundle, artifact, trustedRoot, publicKeyPem: readFileSync(keyFile, 'utf8') });
    } else {
      const identity = { subject: c.identity === 'DEFAULT' ? suite.defaults.identity : c.identity, issuer: c.issuer === 'DEFAULT' ? suite.defaults.issuer : c.issuer };
      verifySigstoreBundle({ bundle, artifact, trustedRoot, identity });
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code ?? (err as Error).name, message: (err as Error).message };
  }
}

describe.skipIf(!present)('Sigstore bundle-verify conformance suite (sigstore/conformance)', () => {
  const results = { asExpected: 0, total: 0, differ: [] as string[], failCodes: new Map<string, number>() };

  afterAll(() => {
    const codes = [...results.failCodes.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`[conformance] Sigstore bundle suite: ${results.asExpected}/${results.total} as expected${results.differ.length ? ` (differ: ${results.differ.join(', ')})` : ''}; rejection codes: ${codes}`);
  });

  it('has the 70 upstream cases', () => {
    expect(suite.cases).toHaveLength(70);
  });

  it.each(suite.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = runCase(c);
    results.total++;
    if (!r.ok) results.failCodes.set(r.code ?? '?', (results.failCodes.get(r.code ?? '?') ?? 0) + 1);
    if (r.ok === (c.expected === 'pass')) results.asExpected++;
    else results.differ.push(c.name);
    expect(r.ok, `${c.name}: expected ${c.expected}, got ${r.ok ? 'pass' : `${r.code}: ${r.message}`}`).toBe(c.expected === 'pass');
  });
});
