import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitObjectError, SignatureError } from '../../src/errors.js';
import { computeObjectId } from '../../src/git/object-id.js';
import type { ParsedCommit } from '../../src/git/object.js';
import { extractSignature, parseCommit, parseGitObject, parseTag } from '../../src/git/object.js';
import type { GeneratedKey, GpgHome } from '../helpers/gpg.js';
import { generateKey, makeGpgHome } from '../helpers/gpg.js';
import type { TestRepo } from '../helpers/git.js';
import { catFile, commit, makeRepo, tag, writeObject } from '../helpers/git.js';

const TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const ID = 'A U Thor <a@example.invalid> 1700000000 +0200';

function commitText(headers: string[], message = 'msg\n'): Buffer {
  return Buffer.from(`${headers.join('\n')}\n\n${message}`, 'utf8');
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof GitObjectError || err instanceof SignatureError) return err.code;
    throw err;
  }
  return undefined;
}

/** gpg's verdict over (signature, payload) files: proves the payload is byte-for-byte git's. */
async function gpgVerify(home: GpgHome, signature: string, payload: Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-verify-'));
  try {
    await writeFile(path.join(dir, 'sig.asc'), signature);
    await writeFile(path.join(dir, 'payload'), payload);
    return await new Promise((resolve) => {
      execFile('gpg', ['--batch', '--status-fd', '1', '--verify', path.join(dir, 'sig.asc'), path.join(dir, 'payload')], { env: home.env }, (_err, stdout) => resolve(stdout));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('raw git objects', () => {
  let home: GpgHome;
  let repo: TestRepo;
  let key: GeneratedKey;

  beforeAll(async () => {
    home = await makeGpgHome();
    repo = await makeRepo({ gpg: home });
    key = await generateKey(home, { name: 'Object Tester', email: 'objects@example.invalid' });
  });
  afterAll(async () => {
    await repo?.cleanup();
    await home?.cleanup();
  });

  it('computes the same object ids as git (sha1 and sha256)', async () => {
    const id = await commit(repo, { sign: key.fingerprint });
    expect(computeObjectId('commit', await catFile(repo, id), 'sha1')).toBe(id);
    const repo256 = await makeRepo({ objectFormat: 'sha256', gpg: home });
    try {
      const id256 = await commit(repo256);
      const raw = await catFile(repo256, id256);
      expect(computeObjectId('commit', raw, 'sha256')).toBe(id256);
      expect(parseCommit(raw).format).toBe('sha256');
    } finally {
      await repo256.cleanup();
    }
  });

  it('parses commit headers, identities and parents of a merge', async () => {
    const first = await commit(repo);
    await repo.git(['checkout', '-q', '-b', 'side']);
    const side = await commit(repo, { date: new Date('2024-05-01T10:00:00Z') });
    await repo.git(['checkout', '-q', 'main']);
    await repo.git(['merge', '-q', '--no-ff', '--no-gpg-sign', '-m', 'merge side', 'side']);
    const merge = (await repo.git(['rev-parse', 'HEAD'])).toString().trim();
    const parsed = parseGitObject(await catFile(repo, merge), 'commit') as ParsedCommit;
    expect(parsed.kind).toBe('commit');
    expect(parsed.parents).toEqual([first, side]);
    expect(parsed.tree).toMatch(/^[0-9a-f]{40}$/);
    expect(parsed.committer).toMatchObject({ name: 'Test Committer', email: 'committer@example.invalid' });
    const sideCommit = parseCommit(await catFile(repo, side));
    expect(sideCommit.author).toEqual({ name: 'Test Author', email: 'author@example.invalid', timestamp: 1714557600, timezone: '+0000', date: '2024-05-01T10:00:00.000Z' });
    expect(parsed.body.toString()).toBe('merge side\n');
  });

  it('cuts out the signed payload exactly as git does (gpg verifies it)', async () => {
    const id = await commit(repo, { sign: key.fingerprint, message: 'signed\n\nwith body' });
    const raw = await catFile(repo, id);
    const parts = extractSignature(parseCommit(raw));
    expect(parts.location).toBe('header');
    expect(parts.headerName).toBe('gpgsig');
    expect(parts.signature.startsWith('-----BEGIN PGP SIGNATURE-----\n')).toBe(true);
    expect(parts.payload.toString()).not.toContain('gpgsig');
    expect(parts.payload.length).toBeLessThan(raw.length);
    expect(await gpgVerify(home, parts.signature, parts.payload)).toContain('[GNUPG:] GOODSIG');
    expect(await gpgVerify(home, parts.signature, Buffer.concat([parts.payload, Buffer.from('x')]))).toContain('[GNUPG:] BADSIG');
  });

  it('parses signed tags and cuts the trailing signature block', async () => {
    const id = await tag(repo, 'v0.1', { sign: key.fingerprint, message: 'first release' });
    const raw = await catFile(repo, id, 'tag');
    const parsed = parseTag(raw);
    expect(parsed).toMatchObject({ kind: 'tag', type: 'commit', tag: 'v0.1', tagger: { name: 'Test Committer' } });
    const parts = extractSignature(parsed);
    expect(parts.location).toBe('trailer');
    expect(parts.payload.toString().endsWith('first release\n')).toBe(true);
    expect(await gpgVerify(home, parts.signature, parts.payload)).toContain('[GNUPG:] GOODSIG');
    expect(computeObjectId('tag', raw, 'sha1')).toBe(id);
  });

  it('accepts a tag without tagger (2005 tags) and an unknown header after the standard ones', () => {
    const raw = Buffer.from(`object ${TREE}\ntype tree\ntag old\nx-extra value\n continued\n\nold tag\n`);
    expect(parseTag(raw)).toMatchObject({ tag: 'old', type: 'tree' });
    expect(parseTag(raw).tagger).toBeUndefined();
    expect(code(() => extractSignature(parseTag(raw)))).toBe('UNSIGNED');
  });

  it('accepts mergetag and encoding headers with continuation lines', () => {
    const raw = commitText([`tree ${TREE}`, `author ${ID}`, `committer ${ID}`, 'encoding ISO-8859-1', `mergetag object ${TREE}`, ' type tree', ' tag x', ' ', ' text']);
    const parsed = parseCommit(raw);
    expect(parsed.encoding).toBe('ISO-8859-1');
    expect(parsed.headers.find((h) => h.key === 'mergetag')?.lines.map(String)).toEqual([`object ${TREE}`, 'type tree', 'tag x', '', 'text']);
  });

  describe('MALFORMED_OBJECT', () => {
    const std = [`tree ${TREE}`, `author ${ID}`, `committer ${ID}`];
    const cases: Array<[string, Buffer]> = [
      ['CRLF line endings', Buffer.from(commitText(std).toString().replace(/\n/g, '\r\n'))],
      ['CR in one header', commitText([std[0] as string, `author ${ID}\r`, std[2] as string])],
      ['missing tree', commitText(std.slice(1))],
      ['author before tree', commitText([std[1] as string, std[0] as string, std[2] as string])],
      ['committer missing', commitText(std.slice(0, 2))],
      ['tree repeated later', commitText([...std, `tree ${TREE}`])],
      ['upper-case tree id', commitText([`tree ${TREE.toUpperCase()}`, ...std.slice(1)])],
      ['short parent id', commitText([std[0] as string, 'parent abc', ...std.slice(1)])],
      ['sha256 parent in a sha1 commit', commitText([std[0] as string, `parent ${'a'.repeat(64)}`, ...std.slice(1)])],
      ['identity without timestamp', commitText([std[0] as string, 'author A <a@x>', std[2] as string])],
      ['continuation after a standard header', commitText([std[0] as string, ' more', ...std.slice(1)])],
      ['no blank line after headers', Buffer.from(`${std.join('\n')}\n`)],
      ['no final line feed in headers', Buffer.from(std.join('\n'))],
      ['NUL in a header', commitText([std[0] as string, `author A <a@x>\0 1 +0000`, std[2] as string])],
      ['empty object', Buffer.alloc(0)],
    ];
    it.each(cases)('%s', (_name, raw) => {
      expect(code(() => parseCommit(raw))).toBe('MALFORMED_OBJECT');
    });

    it('rejects tags with an unknown target type or missing tag name', () => {
      expect(code(() => parseTag(Buffer.from(`object ${TREE}\ntype weird\ntag x\n\n`)))).toBe('MALFORMED_OBJECT');
      expect(code(() => parseTag(Buffer.from(`object ${TREE}\ntype tree\n\n`)))).toBe('MALFORMED_OBJECT');
    });
  });

  describe('signature framing', () => {
    const sig = ['gpgsig -----BEGIN PGP SIGNATURE-----', ' ', ' AAAA', ' -----END PGP SIGNATURE-----'];
    const std = [`tree ${TREE}`, `author ${ID}`, `committer ${ID}`];
    it('finds one signature header after committer', () => {
      const parts = extractSignature(parseCommit(commitText([...std, ...sig])));
      expect(parts.signature).toBe('-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n');
      expect(parts.payload.toString()).toBe(`${std.join('\n')}\n\nmsg\n`);
    });
    it.each([
      ['no signature header', [...std], 'UNSIGNED'],
      ['two gpgsig headers', [...std, ...sig, ...sig], 'MULTIPLE_SIGNATURES'],
      ['gpgsig and gpgsig-sha256', [...std, ...sig, 'gpgsig-sha256 junk'], 'MULTIPLE_SIGNATURES'],
      ['one header per armor line (2011 format)', [...std, ...sig.map((l) => `gpgsig ${l.trim()}`)], 'MULTIPLE_SIGNATURES'],
      ['gpgsig before tree', [...sig, ...std], 'MISPLACED_SIGNATURE_HEADER'],
      ['gpgsig between author and committer', [std[0], std[1], ...sig, std[2]], 'MISPLACED_SIGNATURE_HEADER'],
      ['gpgsig-sha256 in a sha1 commit', [...std, 'gpgsig-sha256 -----BEGIN PGP SIGNATURE-----', ' -----END PGP SIGNATURE-----'], 'MALFORMED_SIGNATURE'],
      ['gpgsigXYZ header', [...std, 'gpgsigXYZ x'], 'MALFORMED_SIGNATURE'],
      ['bare gpgsig header', [...std, 'gpgsig'], 'MALFORMED_SIGNATURE'],
    ] as Array<[string, string[], string]>)('%s → %s', (_name, headers, expected) => {
      expect(code(() => extractSignature(parseCommit(commitText(headers))))).toBe(expected);
    });

    it('counts every signature block of a tag', () => {
      const head = `object ${TREE}\ntype tree\ntag t\ntagger ${ID}\n\nmessage\n`;
      const block = '-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n';
      expect(extractSignature(parseTag(Buffer.from(head + block))).signature).toBe(block);
      expect(code(() => extractSignature(parseTag(Buffer.from(head + block + block))))).toBe('MULTIPLE_SIGNATURES');
      expect(code(() => extractSignature(parseTag(Buffer.from(head.replace('\n\n', '\ngpgsig x\n\n') + block))))).toBe('MULTIPLE_SIGNATURES');
      expect(code(() => extractSignature(parseTag(Buffer.from(head.replace('\n\n', '\ngpgsig x\n\n')))))).toBe('MISPLACED_SIGNATURE_HEADER');
      expect(code(() => extractSignature(parseTag(Buffer.from(head))))).toBe('UNSIGNED');
    });
  });

  it('round-trips through git hash-object for a hand-made object', async () => {
    const raw = commitText([`tree ${TREE}`, `author ${ID}`, `committer ${ID}`]);
    expect(computeObjectId('commit', raw, 'sha1')).toBe(await writeObject(repo, 'commit', raw));
  });

  it('agrees with git hash-object for an object larger than its 64 KiB scratch buffer, and after it', async () => {
    const big = Buffer.concat([commitText([`tree ${TREE}`, `author ${ID}`, `committer ${ID}`]), Buffer.alloc(70 * 1024, 'x'), Buffer.from('\n')]);
    expect(computeObjectId('commit', big, 'sha1')).toBe(await writeObject(repo, 'commit', big));
    const small = commitText([`tree ${TREE}`, `author ${ID}`, `committer ${ID}`]);
    expect(computeObjectId('commit', small, 'sha1')).toBe(await writeObject(repo, 'commit', small));
  });
});
