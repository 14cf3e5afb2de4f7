import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catFile, commit, makeRepo, tag, type TestRepo } from '../helpers/git.js';
import { generateKey, makeGpgHome, type GeneratedKey, type GpgHome } from '../helpers/gpg.js';
import { startTestGate, type TestGate } from '../server/harness.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const manifests = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'app' }, data: { a: '1' } }];

describe('POST /v1/gate with signed objects made by real git and gpg', () => {
  let gpg: GpgHome;
  let alice: GeneratedKey;
  let mallory: GeneratedKey;
  let repo: TestRepo;
  let gate: TestGate;
  let signed: { revision: string; commit: string };
  let byMallory: { revision: string; commit: string };

  beforeAll(async () => {
    gpg = await makeGpgHome();
    alice = await generateKey(gpg, { name: 'Alice', email: 'alice@example.invalid' });
    mallory = await generateKey(gpg, { name: 'Mallory', email: 'mallory@example.invalid' });
    repo = await makeRepo({ gpg });
    const a = await commit(repo, { sign: alice.fingerprint });
    signed = { revision: a, commit: (await catFile(repo, a)).toString('utf8') };
    const m = await commit(repo, { sign: mallory.fingerprint });
    byMallory = { revision: m, commit: (await catFile(repo, m)).toString('utf8') };

    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-keys-'));
    const keyring = path.join(dir, 'team.asc');
    await writeFile(keyring, alice.publicKey + mallory.publicKey);
    gate = await startTestGate({
      trust: {
        keyrings: [keyring],
        rules: [
          { repositories: ['github.com/acme/payments'], openpgp: { fingerprints: [alice.fingerprint] } },
          { repositories: ['github.com/acme/*'], openpgp: { fingerprints: [alice.fingerprint, mallory.fingerprint] } },
        ],
      },
    });
  });
  afterAll(async () => {
    await gate?.close();
    await repo?.cleanup();
    await gpg?.cleanup();
  });

  it('allows a commit signed by a key the rule names, with signer evidence', async () => {
    const { status, json } = await gate.post({ ...signed, repository: 'https://github.com/acme/payments.git', manifests });
    expect(status).toBe(200);
    expect(json).toMatchObject({ allowed: true, outcome: 'allow', reasons: [], manifests: { count: 1 } });
    expect(json.signer).toMatchObject({ method: 'openpgp', fingerprint: alice.fingerprint, userIds: ['Alice <alice@example.invalid>'] });
    const record = (await gate.records()).find((r) => r.decisionId === json.decisionId)!;
    expect(record).toMatchObject({ outcome: 'allow', revision: signed.revision, repository: 'https://github.com/acme/payments.git' });
    expect(record.signer).toMatchObject({ fingerprint: alice.fingerprint });
  });

  it('reads a body declared as UTF-8 in any spelling, and refuses another charset as unreadable', async () => {
    const body = { ...signed, repository: 'https://github.com/acme/payments.git', manifests: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: café, namespace: app}\n' };
    const utf8 = await gate.post(body, { 'content-type': 'application/json; Charset="UTF-8"' });
    expect(utf8.status).toBe(200);
    const utf16 = await gate.post(body, { 'content-type': 'application/json; charset=utf-16le' });
    expect(utf16.status).toBe(400);
    expect(utf16.json.reasons).toEqual([expect.objectContaining({ code: 'REQUEST_UNREADABLE' })]);
  });

  it('denies a key that is trusted for other repositories but not for this one', async () => {
    const other = await gate.post({ ...byMallory, repository: 'git@github.com:acme/web.git', manifests });
    expect(other.status).toBe(200);
    const { status, json } = await gate.post({ ...byMallory, repository: 'https://github.com/acme/payments', manifests });
    expect(status).toBe(403);
    expect(json.reasons).toEqual([expect.objectContaining({ code: 'KEY_NOT_ALLOWED' })]);
  });

  it('denies a repository no rule covers', async () => {
    const { status, json } = await gate.post({ ...signed, repository: 'https://gitlab.example.invalid/other/repo', manifests });
    expect(status).toBe(403);
    expect((json.reasons as Array<{ code: string }>)[0]!.code).toBe('NO_TRUST_RULE');
  });

  it('denies a commit whose message was changed after signing', async () => {
    const tampered = signed.commit.replace(/\n\n(.*)\n$/s, '\n\n$1 (edited)\n');
    const revision = (await repo.git(['hash-object', '-t', 'commit', '--stdin'], { input: tampered })).toString().trim();
    const { status, json } = await gate.post({ revision, commit: tampered, repository: 'github.com/acme/web', manifests });
    expect(status).toBe(403);
    expect((json.reasons as Array<{ code: string }>)[0]!.code).toBe('BAD_SIGNATURE');
  });

  it('accepts the commit base64-encoded', async () => {
    const { status } = await gate.post({ revision: signed.revision, commit: Buffer.from(signed.commit).toString('base64'), encoding: 'base64', repository: 'github.com/acme/web', manifests });
    expect(status).toBe(200);
  });

  it('reads the commit itself from repoPath', async () => {
    const { status, json } = await gate.post({ revision: signed.revision, repoPath: repo.dir, repository: 'github.com/acme/web', manifests });
    expect(status).toBe(200);
    expect(json.signer).toMatchObject({ fingerprint: alice.fingerprint });
    const missing = await gate.post({ revision: 'b'.repeat(40), repoPath: repo.dir, repository: 'github.com/acme/web', manifests });
    expect(missing.status).toBe(403);
    expect((missing.json.reasons as Array<{ code: string }>)[0]!.code).toBe('OBJECT_NOT_FOUND');
  });

  describe("Flux's tag modes", () => {
    let unsignedHead: { revision: string; commit: string };
    let signedTag: string;
    let tagId: string;

    beforeAll(async () => {
      const head = await commit(repo, {});
      unsignedHead = { revision: head, commit: (await catFile(repo, head)).toString('utf8') };
      tagId = await tag(repo, 'v1.0.0', { sign: alice.fingerprint, target: head });
      signedTag = (await catFile(repo, tagId, 'tag')).toString('utf8');
    });

    it('Tag: a signed tag on an unsigned commit is allowed, reporting the tag signer', async () => {
      const { status, json } = await gate.post({ ...unsignedHead, tag: signedTag, tagRevision: tagId, verify: 'tag', repository: 'github.com/acme/web', manifests });
      expect(status).toBe(200);
      expect(json.signer).toMatchObject({ fingerprint: alice.fingerprint });
      expect(json.verifications).toEqual([expect.objectContaining({ object: 'tag', oid: tagId, verified: true })]);
    });

    it('TagAndHEAD: the same pair is denied because the commit is unsigned', async () => {
      const { status, json } = await gate.post({ ...unsignedHead, tag: signedTag, verify: 'tagAndHead', repository: 'github.com/acme/web', manifests });
      expect(status).toBe(403);
      expect(json.reasons).toEqual([expect.objectContaining({ code: 'UNSIGNED', location: { path: 'commit' } })]);
    });

    it('Tag with repoPath and tagName reads both objects', async () => {
      const { status } = await gate.post({ revision: unsignedHead.revision, repoPath: repo.dir, tagName: 'v1.0.0', verify: 'tag', repository: 'github.com/acme/web', manifests });
      expect(status).toBe(200);
    });

    it('denies a tag reached through another tag name (repoPath mode)', async () => {
      await repo.git(['update-ref', 'refs/tags/v9.9.9', tagId]);
      const { status, json } = await gate.post({ revision: unsignedHead.revision, repoPath: repo.dir, tagName: 'v9.9.9', verify: 'tag', repository: 'github.com/acme/web', manifests });
      expect(status).toBe(403);
      expect(json.reasons).toEqual([expect.objectContaining({ code: 'TAG_NAME_MISMATCH' })]);
    });

    it('denies a tag that points at another commit', async () => {
      const { status, json } = await gate.post({ ...signed, tag: signedTag, verify: 'tag', repository: 'github.com/acme/web', manifests });
      expect(status).toBe(403);
      expect(json.reasons).toEqual([expect.objectContaining({ code: 'TAG_TARGET_MISMATCH' })]);
    });

    it('denies a tag that does not hash to tagRevision', async () => {
      const { status, json } = await gate.post({ ...unsignedHead, tag: signedTag, tagRevision: 'c'.repeat(40), verify: 'tag', repository: 'github.com/acme/web', manifests });
      expect(status).toBe(403);
      expect(json.reasons).toEqual([expect.objectContaining({ code: 'REVISION_MISMATCH', location: { path: 'tag' } })]);
    });

    it('answers 400 when a tag mode has no tag', async () => {
      const { status, json } = await gate.post({ ...unsignedHead, verify: 'tag', manifests });
      expect(status).toBe(400);
      expect(json.reasons).toEqual([expect.objectContaining({ code: 'REQUEST_INVALID', location: { path: 'tag' } })]);
    });
  });

  describe('SHA-256 repositories', () => {
    it('hashes the commit with SHA-256 when the revision has 64 hex digits', async () => {
      const repo256 = await makeRepo({ gpg, objectFormat: 'sha256' });
      try {
        const id = await commit(repo256, { sign: alice.fingerprint });
        expect(id).toHaveLength(64);
        const raw = (await catFile(repo256, id)).toString('utf8');
        const ok = await gate.post({ revision: id, commit: raw, repository: 'github.com/acme/web', manifests });
        expect(ok.status).toBe(200);
        // another id: the last digit changed (an id that already ends in 0 made this the same id)
        const wrong = await gate.post({ revision: `${id.slice(0, 63)}${id.endsWith('0') ? '1' : '0'}`, commit: raw, repository: 'github.com/acme/web', manifests });
        expect(wrong.json.reasons).toEqual([expect.objectContaining({ code: 'REVISION_MISMATCH' })]);
      } finally {
        await repo256.cleanup();
      }
    });
  });
});
