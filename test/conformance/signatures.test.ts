/**
 * Conformance over ../shared/corpus/signatures/expected-strict.json: every OpenPGP entry must get
 * its expected verdict and reason code at now = 2026-11-21 with the trust the file describes.
 * SSH entries are counted apart (no SSH verifier yet: they must still be rejected), policy-dependent
 * entries must match one of their listed outcomes, out-of-scope entries are only reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/signatures/keyring.js';
import type { VerificationResult } from '../../src/signatures/verify.js';
import { SignatureVerifier } from '../../src/signatures/verify.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'corpus', 'signatures');
const expectedFile = path.join(corpusDir, 'expected-strict.json');
const NOW = new Date('2026-11-21T00:00:00Z');

interface Entry {
  file: string;
  kind: 'commit' | 'tag';
  section: string;
  policyCase?: string;
  trust: { openpgpKeyFiles: string[]; allowedSigners: string };
  verdict: 'verified' | 'not-verified' | 'policy-dependent' | 'out-of-scope';
  reason: string | null;
  outcomes?: Record<string, string>;
  note?: string;
}

const present = existsSync(expectedFile);
if (!present) console.log(`[conformance] signature corpus not found at ${corpusDir}: suite skipped`);
const entries: Entry[] = present ? (JSON.parse(readFileSync(expectedFile, 'utf8')) as { entries: Entry[] }).entries : [];

const label = (e: Entry): string => `${e.file}${e.policyCase ? ` [${e.policyCase}]` : ''}`;
const isSsh = (e: Entry): boolean => e.policyCase !== undefined || readFileSync(path.join(corpusDir, e.file), 'latin1').includes('-----BEGIN SSH SIGNATURE-----');
const got = (r: VerificationResult): string => (r.verified ? 'verified' : (r.reason?.code ?? 'NO_REASON'));

describe.skipIf(!present)('signature corpus conformance (expected-strict.json)', () => {
  const verifiers = new Map<string, SignatureVerifier>();
  const counts = { openpgpPass: 0, openpgpTotal: 0, sshRejected: 0, sshTotal: 0, policyDependent: [] as string[], outOfScope: 0, adversarialRejected: 0, adversarialTotal: 0 };

  beforeAll(async () => {
    for (const e of entries) {
      const key = e.trust.openpgpKeyFiles.join('|');
      if (verifiers.has(key)) continue;
      const keyring = await Keyring.fromFiles(e.trust.openpgpKeyFiles.map((f) => path.join(corpusDir, f)));
      verifiers.set(
        key,
        new SignatureVerifier({ keyring, trust: { keyrings: [], rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: true, allowSha1: [], allowDsa: [] } }] } }),
      );
    }
  });

  afterAll(() => {
    if (!present) return;
    console.log(
      `[conformance] signatures: OpenPGP ${counts.openpgpPass}/${counts.openpgpTotal} as expected; ` +
        `SSH ${counts.sshRejected}/${counts.sshTotal} rejected (pending: SSH verifier, not counted); ` +
        `adversarial ${counts.adversarialRejected}/${counts.adversarialTotal} rejected; ` +
        `policy-dependent ${counts.policyDependent.length} (${counts.policyDependent.join('; ')}); out-of-scope ${counts.outOfScope} skipped`,
    );
  });

  it.each(entries.map((e) => [label(e), e] as const))('%s', async (_name, e) => {
    const verifier = verifiers.get(e.trust.openpgpKeyFiles.join('|')) as SignatureVerifier;
    const raw = readFileSync(path.join(corpusDir, e.file));
    const result = await verifier.verifyObject({ raw, kind: e.kind, now: NOW });
    const outcome = got(result);
    const adversarial = e.section === 'adversarial' || e.section === 'synthetic' || e.file.startsWith('adversarial/');
    if (adversarial && e.verdict === 'not-verified') {
      counts.adversarialTotal++;
      if (!result.verified) counts.adversarialRejected++;
      expect(result.verified, `${label(e)} must be rejected`).toBe(false);
    }

    if (e.verdict === 'out-of-scope') {
      counts.outOfScope++;
      expect(result.verified).toBe(false);
      return;
    }
    if (isSsh(e)) {
      counts.sshTotal++;
      if (!result.verified) counts.sshRejected++;
      expect(result.verified, 'no SSH verifier yet: every SSH object must be rejected').toBe(false);
      return;
    }
    if (e.verdict === 'policy-dependent') {
      const allowed = Object.values(e.outcomes ?? {});
      counts.policyDependent.push(`${e.file.split('/').pop()?.slice(0, 8)}: ${outcome}`);
      expect(allowed).toContain(outcome);
      return;
    }
    counts.openpgpTotal++;
    const expected = e.verdict === 'verified' ? 'verified' : e.reason;
    if (outcome === expected) counts.openpgpPass++;
    expect(outcome, `${label(e)}: ${result.reason?.message ?? ''}`).toBe(expected);
    if (result.verified) {
      expect(result.oid).toBe(e.file.startsWith('adversarial/') ? result.oid : path.basename(e.file).split('.')[0]);
      expect(result.signer?.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    }
  });
});

describe.skipIf(!present)('signature corpus: per-key algorithm allowances', () => {
  const files = ['keys/github-web-flow.asc', 'keys/junio-c-hamano-20D04E5A713660A7.asc', 'keys/stefan-prodan-3299AEB0E4085BAF.asc', 'keys/synthetic-throwaway-keys.asc'];
  const read = (f: string): Buffer => readFileSync(path.join(corpusDir, f));

  it('DSA signatures verify only where a rule names the DSA key in allowDsa', async () => {
    const keyring = await Keyring.fromFiles(files.map((f) => path.join(corpusDir, f)));
    const stefan = keyring.findByKeyId('3299AEB0E4085BAF')[0]?.primaryFingerprint as string;
    const verifier = new SignatureVerifier({
      keyring,
      trust: {
        keyrings: [],
        rules: [
          { repositories: ['github.com/fluxcd/**'], openpgp: { fingerprints: [stefan], anyTrustedKey: false, allowSha1: [], allowDsa: [stefan] } },
          { repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: true, allowSha1: [], allowDsa: [] } },
        ],
      },
    });
    const raw = read('commits/c1a8e6374cf6a39a19b8b544a71e00c69da3ded0.commit');
    const flux = await verifier.verifyObject({ raw, kind: 'commit', repository: 'https://github.com/fluxcd/pkg', now: NOW });
    expect(flux.reason).toBeUndefined();
    expect(flux.signer).toMatchObject({ primaryFingerprint: stefan, publicKeyAlgorithm: 'dsa' });
    const elsewhere = await verifier.verifyObject({ raw, kind: 'commit', repository: 'https://github.com/acme/x', now: NOW });
    expect(elsewhere.reason?.code).toBe('WEAK_ALGORITHM');
    const tag = await verifier.verifyObject({ raw: read('tags/c15174074a9f5c1fa5d87a469c6fa09d9b0f7624.tag'), kind: 'tag', repository: 'github.com/fluxcd/flux2', now: NOW });
    expect(tag.verified).toBe(true);
  });

  it('allowSha1 lifts WEAK_HASH, and the next check (binding after signature) still applies', async () => {
    const keyring = await Keyring.fromFiles(files.map((f) => path.join(corpusDir, f)));
    const junio = keyring.findByKeyId('20D04E5A713660A7')[0]?.primaryFingerprint as string;
    const synthetic = (await Keyring.fromFiles([path.join(corpusDir, 'keys/synthetic-throwaway-keys.asc')])).keys.map((k) => k.getFingerprint().toUpperCase());
    const verifier = new SignatureVerifier({
      keyring,
      trust: { keyrings: [], rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: true, allowSha1: [junio, ...synthetic], allowDsa: [] } }] },
    });
    const sha1Tag = await verifier.verifyObject({ raw: read('tags/0bed5b767b4ad2adf7347a332fd0b24b211612bc.tag'), kind: 'tag', now: NOW });
    expect(sha1Tag.reason?.code).toBe('BINDING_AFTER_SIGNATURE');
    // EdDSA over SHA-1 stays refused even when allowed: openpgp.js requires a 256-bit hash for EdDSA.
    const eddsaSha1 = await verifier.verifyObject({ raw: read('adversarial/syn-sha1-digest.commit'), kind: 'commit', now: NOW });
    expect(eddsaSha1.reason?.code).toBe('WEAK_HASH');
  });
});
