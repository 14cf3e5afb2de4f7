/**
 * Time faults: the gate's clock skewed (its `clock` dependency) against OpenPGP signatures (a
 * signature from the future) and SSH validity windows; and a Sigstore trusted root whose CA or
 * Rekor key has expired. Each is a deny with its own code, and the decision is right again once
 * the clock or the root is.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { parseConfig } from '../../src/config/load.js';
import { runGate } from '../../src/gate/pipeline.js';
import { extractSignature, parseGitObject } from '../../src/git/object.js';
import { parseArmor } from '../../src/signatures/armor.js';
import { parseDetachedSignature } from '../../src/signatures/openpgp-packets.js';
import { loadTrustMaterial } from '../../src/gate/trust-material.js';
import type { GateDependencies } from '../../src/gate/types.js';
import { TrustedRootStore } from '../../src/signatures/gitsign/trusted-root.js';
import { GitsignVerifier } from '../../src/signatures/gitsign/verifier.js';
import { Keyring } from '../../src/signatures/keyring.js';
import { SshTrustStore, SshVerifier, parseAllowedSigners } from '../../src/signatures/ssh/index.js';
import { SignatureVerifier } from '../../src/signatures/verify.js';
import { catFile, makeRepo, type TestRepo } from '../helpers/git.js';
import { NOW, T0, TestSigstore, commitPayload, signGitsign, signedCommit } from '../helpers/gitsign.js';
import { type SshHome, allowedSignersLine, generateSshKey, makeSshHome, sshCommit } from '../helpers/ssh.js';
import { memoryAudit } from '../helpers/memory-audit.js';

const MINUTE = 60_000;

describe('a skewed gate clock', () => {
  let example: { revision: string; commit: string; manifests: string };
  let signedAt: Date;
  let clock: Date | undefined;
  let deps: GateDependencies;

  beforeAll(async () => {
    example = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8')) as typeof example;
    // The signature's own creation time (not the commit's date).
    const parts = extractSignature(parseGitObject(Buffer.from(example.commit), 'commit'));
    signedAt = parseDetachedSignature(parseArmor(parts.signature, { allowTrailingEmptyLine: true }).data).created;
    const config = parseConfig({ ...EMBEDDED_DEFAULTS, policies: { paths: [] } }, 'test', PACKAGE_ROOT);
    const verifier = await loadTrustMaterial(config.trust);
    deps = {
      verifier: () => verifier,
      policies: () => ({ policies: [], exceptions: [], loadedAt: new Date(), generation: 1 }),
      policyOptions: { modes: { defaultMode: 'enforce', overrides: {} }, bindings: {} },
      audit: memoryAudit(),
      limits: parseConfig({}, 'test', PACKAGE_ROOT).limits,
      clock: () => clock ?? new Date(),
    };
  });

  const decide = (at: Date | undefined) => {
    clock = at;
    return runGate(example, { identity: 'clock' }, deps);
  };

  it('the gate clock behind the signature by more than the 5-minute skew allowance: the signature is from the future, deny', async () => {
    const d = await decide(new Date(signedAt.getTime() - 60 * MINUTE));
    expect(d.allowed).toBe(false);
    expect(d.reasons[0]!.code).toBe('KEY_NOT_YET_VALID');
    expect(d.reasons[0]!.message).toMatch(/future/i);
  });

  it('within the allowance (4 minutes behind): allowed; and with the clock right again: allowed', async () => {
    const early = await decide(new Date(signedAt.getTime() - 4 * MINUTE));
    expect(early.allowed, JSON.stringify(early.reasons)).toBe(true);
    const d = await decide(undefined);
    expect(d.allowed, JSON.stringify(d.reasons)).toBe(true);
  });

  it('a clock years ahead does not make a valid signature fail or an invalid one pass (validity is judged at signing time)', async () => {
    expect((await decide(new Date(signedAt.getTime() + 5 * 365 * 24 * 60 * MINUTE))).allowed).toBe(true);
    const tampered = { ...example, commit: example.commit.replace('Dev Signer <dev-signer', 'Dev Signer <dev-s1gner') };
    clock = new Date(signedAt.getTime() + 5 * 365 * 24 * 60 * MINUTE);
    const d = await runGate({ ...tampered, revision: example.revision }, { identity: 'clock' }, deps);
    expect(d.allowed).toBe(false);
    clock = undefined;
  });
});

describe('SSH validity windows under a skewed clock', () => {
  let home: SshHome;
  let repo: TestRepo;
  let raw: Buffer;
  let verifier: SignatureVerifier;

  beforeAll(async () => {
    home = await makeSshHome();
    repo = await makeRepo();
    const key = await generateSshKey(home, 'ed25519', 'windowed');
    raw = await catFile(repo, await sshCommit(repo, key, { date: new Date('2026-06-01T00:00:00Z') }));
    const signers = parseAllowedSigners(allowedSignersLine('committer@example.invalid', key, 'valid-after="20260101",valid-before="20270101"'), 'allowed_signers');
    verifier = new SignatureVerifier({
      keyring: new Keyring(),
      trust: { keyrings: [], rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, ssh: { principals: [], anyAllowedSigner: true, requireCommitterMatch: true, windowAt: 'now' } }] },
      methods: [new SshVerifier(new SshTrustStore(signers, []))],
    });
  });
  afterAll(async () => {
    await repo?.cleanup();
    await home?.cleanup();
  });

  it('a clock past valid-before: KEY_EXPIRED; before valid-after: KEY_NOT_YET_VALID; inside the window: verified', async () => {
    const at = (iso: string) => verifier.verifyObject({ raw, kind: 'commit', now: new Date(iso) });
    expect((await at('2027-03-01T00:00:00Z')).reason?.code).toBe('KEY_EXPIRED');
    expect((await at('2025-12-01T00:00:00Z')).reason?.code).toBe('KEY_NOT_YET_VALID');
    const ok = await at('2026-11-22T00:00:00Z');
    expect(ok.reason).toBeUndefined();
    expect(ok.verified).toBe(true);
  });
});

describe('an expired Sigstore trusted root', () => {
  let sigstore: TestSigstore;
  let dir: string;
  let file: string;
  let raw: Buffer;
  let store: TrustedRootStore;
  let verifier: SignatureVerifier;

  /** The test root with the CA's and/or the Rekor key's validity ended at `end`. */
  const expiredRoot = (end: string, what: 'ca' | 'tlog') => {
    const root = JSON.parse(sigstore.trustedRoot().toString('utf8')) as {
      certificateAuthorities: Array<{ validFor: { start: string; end?: string } }>;
      tlogs: Array<{ publicKey: { validFor: { start: string; end?: string } } }>;
    };
    if (what === 'ca') root.certificateAuthorities[0]!.validFor.end = end;
    else root.tlogs[0]!.publicKey.validFor.end = end;
    return Buffer.from(JSON.stringify(root));
  };

  beforeAll(async () => {
    sigstore = new TestSigstore();
    dir = mkdtempSync(path.join(tmpdir(), 'syncgate-faults-root-'));
    file = path.join(dir, 'trusted_root.json');
    writeFileSync(file, sigstore.trustedRoot());
    store = await TrustedRootStore.open(file);
    const payload = commitPayload();
    raw = signedCommit(payload, await signGitsign(payload, { leaf: sigstore.leaf(), rekor: { sigstore } }));
    verifier = new SignatureVerifier({
      keyring: new Keyring(),
      trust: {
        keyrings: [],
        rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, gitsign: { identities: [{ issuer: 'https://accounts.example.com', subject: 'alice@example.com' }], requireCommitterMatch: false } }],
      },
      methods: [new GitsignVerifier({ trustedRoot: store })],
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = () => verifier.verifyObject({ raw, kind: 'commit', now: NOW });

  it('verifies with the current root', async () => {
    expect((await check()).verified).toBe(true);
  });

  it('the CA expired before the signature was made: deny CERT_CHAIN_INVALID; the renewed root restores it', async () => {
    writeFileSync(file, expiredRoot(new Date(T0.getTime() - 24 * 60 * MINUTE).toISOString(), 'ca'));
    expect((await store.reload()).status).toBe('reloaded');
    const r = await check();
    expect(r.verified).toBe(false);
    expect(r.reason?.code).toBe('CERT_CHAIN_INVALID');
    writeFileSync(file, sigstore.trustedRoot());
    expect((await store.reload()).status).toBe('reloaded');
    expect((await check()).verified).toBe(true);
  });

  it('the Rekor key expired before the entry was logged: deny with a Rekor code; the renewed root restores it', async () => {
    writeFileSync(file, expiredRoot(new Date(T0.getTime() - 24 * 60 * MINUTE).toISOString(), 'tlog'));
    expect((await store.reload()).status).toBe('reloaded');
    const r = await check();
    expect(r.verified).toBe(false);
    expect(r.reason?.code).toMatch(/^REKOR_(LOG_UNKNOWN|SET_INVALID)$/);
    writeFileSync(file, sigstore.trustedRoot());
    expect((await store.reload()).status).toBe('reloaded');
    expect((await check()).verified).toBe(true);
  });
});
