/**
 * Conformance over ../shared/corpus/signatures/expected-strict.json: every OpenPGP and SSH entry
 * (including the SSH policy checks P1-P7) must get its expected verdict and reason code at
 * now = 2026-11-21 with the trust the file describes. Policy-dependent entries are reported, not
 * counted; for the SSH windows (P3, P4) both of our policies (windowAt now / committer) must give
 * the outcome the file lists for them. Out-of-scope entries are only reported.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshRuleConfig, TrustRuleConfig } from '../../src/config/trust.js';
import { parseCommit } from '../../src/git/object.js';
import { Keyring } from '../../src/signatures/keyring.js';
import { SshTrustStore, SshVerifier } from '../../src/signatures/ssh/index.js';
import type { VerificationResult } from '../../src/signatures/verify.js';
import { SignatureVerifier } from '../../src/signatures/verify.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'corpus', 'signatures');
const expectedFile = path.join(corpusDir, 'expected-strict.json');
const manifestFile = path.join(corpusDir, 'manifest.json');
const NOW = new Date('2026-11-21T00:00:00Z');

interface Entry {
  file: string;
  kind: 'commit' | 'tag';
  section: string;
  policyCase?: string;
  trust: { openpgpKeyFiles: string[]; allowedSigners: string; sshRevocationFile?: string };
  verdict: 'verified' | 'not-verified' | 'policy-dependent' | 'out-of-scope';
  reason: string | null;
  outcomes?: Record<string, string>;
  note?: string;
}

interface ManifestObject {
  file: string;
  signature_type: string;
  key_fingerprint?: string;
  key_type?: string;
}

const present = existsSync(expectedFile);
if (!present) console.log(`[conformance] signature corpus not found at ${corpusDir}: suite skipped`);
const entries: Entry[] = present ? (JSON.parse(readFileSync(expectedFile, 'utf8')) as { entries: Entry[] }).entries : [];
const manifest: ManifestObject[] = present ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as { objects: ManifestObject[] }).objects : [];

const label = (e: Entry): string => `${e.file}${e.policyCase ? ` [${e.policyCase}]` : ''}`;
const isSsh = (e: Entry): boolean => e.policyCase !== undefined || readFileSync(path.join(corpusDir, e.file), 'latin1').includes('-----BEGIN SSH SIGNATURE-----');
const got = (r: VerificationResult): string => (r.verified ? 'verified' : (r.reason?.code ?? 'NO_REASON'));
const trustKey = (e: Entry, windowAt: SshRuleConfig['windowAt']): string => [...e.trust.openpgpKeyFiles, e.trust.allowedSigners, e.trust.sshRevocationFile ?? '', windowAt].join('|');
/** Our policy name for each of the corpus' policy-dependent SSH outcomes. */
const WINDOW_POLICIES: Record<string, SshRuleConfig['windowAt']> = { sshWindowAtNow: 'now', sshWindowAtCommitterTime: 'committer' };

/** The corpus default: any trusted OpenPGP key; an SSH key listed for the committer e-mail. */
function corpusRule(windowAt: SshRuleConfig['windowAt']): TrustRuleConfig {
  return {
    repositories: ['**'],
    openpgp: { fingerprints: [], anyTrustedKey: true, allowSha1: [], allowDsa: [] },
    ssh: { principals: [], anyAllowedSigner: true, requireCommitterMatch: true, windowAt },
  };
}

describe.skipIf(!present)('signature corpus conformance (expected-strict.json)', () => {
  const verifiers = new Map<string, SignatureVerifier>();
  const counts = {
    openpgpPass: 0,
    openpgpTotal: 0,
    sshPass: 0,
    sshTotal: 0,
    policyDependent: [] as string[],
    outOfScope: 0,
    adversarialRejected: 0,
    adversarialTotal: 0,
  };

  const verifierFor = (e: Entry, windowAt: SshRuleConfig['windowAt'] = 'now'): SignatureVerifier => verifiers.get(trustKey(e, windowAt)) as SignatureVerifier;

  beforeAll(async () => {
    for (const e of entries) {
      for (const windowAt of ['now', 'committer'] as const) {
        const key = trustKey(e, windowAt);
        if (verifiers.has(key)) continue;
        const keyring = await Keyring.fromFiles(e.trust.openpgpKeyFiles.map((f) => path.join(corpusDir, f)));
        // ssh-keygen's reading (invalid lines skipped), as the ground truth was made with ssh-keygen.
        const store = await SshTrustStore.fromFiles(
          [path.join(corpusDir, e.trust.allowedSigners)],
          e.trust.sshRevocationFile ? [path.join(corpusDir, e.trust.sshRevocationFile)] : [],
          { invalidLines: 'skip' },
        );
        // Only P7's file has an invalid line (see the P7 test below); every other file must load strictly too.
        expect(store.warnings.map((w) => w.location?.line), e.trust.allowedSigners).toEqual(e.trust.allowedSigners.includes('P7-') ? [1] : []);
        verifiers.set(key, new SignatureVerifier({ keyring, trust: { keyrings: [], rules: [corpusRule(windowAt)] }, methods: [new SshVerifier(store)] }));
      }
    }
  });

  afterAll(() => {
    if (!present) return;
    console.log(
      `[conformance] signatures: OpenPGP ${counts.openpgpPass}/${counts.openpgpTotal} as expected; ` +
        `SSH ${counts.sshPass}/${counts.sshTotal} as expected (incl. policy checks P1-P7 except the policy-dependent ones); ` +
        `adversarial ${counts.adversarialRejected}/${counts.adversarialTotal} rejected; ` +
        `policy-dependent ${counts.policyDependent.length} reported, not counted (${counts.policyDependent.join('; ')}); out-of-scope ${counts.outOfScope} skipped`,
    );
  });

  it.each(entries.map((e) => [label(e), e] as const))('%s', async (_name, e) => {
    const raw = readFileSync(path.join(corpusDir, e.file));
    const result = await verifierFor(e).verifyObject({ raw, kind: e.kind, now: NOW });
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
    const ssh = isSsh(e);
    if (e.verdict === 'policy-dependent') {
      const allowed = Object.values(e.outcomes ?? {});
      const short = `${e.policyCase ?? e.file.split('/').pop()?.slice(0, 8)}`;
      if (ssh) {
        // Both window policies must give the outcome the corpus lists for them.
        const byPolicy: string[] = [];
        for (const [name, expected] of Object.entries(e.outcomes ?? {})) {
          const windowAt = WINDOW_POLICIES[name];
          expect(windowAt, `unknown SSH policy ${name}`).toBeDefined();
          const r = await verifierFor(e, windowAt).verifyObject({ raw, kind: e.kind, now: NOW });
          expect(got(r), `${label(e)} with windowAt=${windowAt}: ${r.reason?.message ?? ''}`).toBe(expected);
          byPolicy.push(`${windowAt}: ${got(r)}`);
        }
        counts.policyDependent.push(`${short}: ${byPolicy.join(', ')}`);
      } else {
        counts.policyDependent.push(`${short}: ${outcome}`);
        expect(allowed).toContain(outcome);
      }
      return;
    }
    const expected = e.verdict === 'verified' ? 'verified' : e.reason;
    if (ssh) counts.sshTotal++;
    else counts.openpgpTotal++;
    if (outcome === expected) {
      if (ssh) counts.sshPass++;
      else counts.openpgpPass++;
    }
    expect(outcome, `${label(e)}: ${result.reason?.message ?? ''}`).toBe(expected);
    if (result.verified) {
      // adversarial files are not named by their id: hash them here, apart from the code under test
      const independent = () => createHash(result.oid.length === 64 ? 'sha256' : 'sha1').update(`${e.kind} ${raw.length}\0`, 'latin1').update(raw).digest('hex');
      expect(result.oid).toBe(e.file.startsWith('adversarial/') ? independent() : path.basename(e.file).split('.')[0]);
      if (ssh) {
        const m = manifest.find((o) => o.file === e.file) as ManifestObject;
        const committer = parseCommit(raw).committer.email;
        expect(result.method).toBe('ssh');
        expect(result.signer?.fingerprint).toBe(m.key_fingerprint);
        expect(result.signer?.ssh).toMatchObject({ keyType: m.key_type, principal: committer, namespace: 'git', hashAlgorithm: 'sha512' });
        if (m.key_type?.startsWith('sk-')) {
          expect(result.signer?.ssh?.flags).toBeDefined();
          expect((result.signer?.ssh?.flags as number) & 0x01).toBe(1);
          expect(result.signer?.ssh?.counter).toBeTypeOf('number');
          expect(result.signer?.ssh?.application).toMatch(/^ssh:/);
        }
      } else {
        expect(result.signer?.fingerprint).toMatch(/^[0-9A-F]{40}$/);
      }
    }
  });
});

describe.skipIf(!present)('signature corpus: SSH policy check P7 (cert-authority only)', () => {
  const file = path.join(corpusDir, 'keys/ssh-policy/P7-cert-authority-only.allowed_signers');
  const raw = (): Buffer => readFileSync(path.join(corpusDir, 'commits/bb73fab780281c8df8fa2ec946d540f9a76021b7.commit'));

  it('the corpus P7 line separates its options with a blank, which ssh-keygen reads as "invalid key": strict loading refuses it with file and line', async () => {
    await expect(SshTrustStore.fromFiles([file])).rejects.toMatchObject({ code: 'ALLOWED_SIGNERS_INVALID', location: { file, line: 1 } });
  });

  it('with the options written as intended (cert-authority,namespaces="git"), a plain-key signature is UNKNOWN_KEY', async () => {
    const text = readFileSync(file, 'utf8').replace('cert-authority namespaces=', 'cert-authority,namespaces=');
    const { parseAllowedSigners } = await import('../../src/signatures/ssh/index.js');
    const signers = parseAllowedSigners(text, 'P7-fixed');
    expect(signers).toHaveLength(1);
    expect(signers[0]).toMatchObject({ certAuthority: true, namespaces: 'git' });
    const verifier = new SignatureVerifier({ keyring: new Keyring(), trust: { keyrings: [], rules: [corpusRule('now')] }, methods: [new SshVerifier(new SshTrustStore(signers))] });
    const result = await verifier.verifyObject({ raw: raw(), kind: 'commit', now: NOW });
    expect(result.reason?.code).toBe('UNKNOWN_KEY');
    expect(result.reason?.message).toContain('only as a cert-authority');
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
