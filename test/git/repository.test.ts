import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncgateError } from '../../src/errors.js';
import { computeObjectId } from '../../src/git/object-id.js';
import { GitRepository, readObject } from '../../src/git/repository.js';
import type { TestRepo } from '../helpers/git.js';
import { catFile, commit, makeRepo, tag } from '../helpers/git.js';

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SyncgateError) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('GitRepository', () => {
  let repo: TestRepo;
  let repo256: TestRepo;
  const ids: string[] = [];
  let tagId: string;

  beforeAll(async () => {
    repo = await makeRepo();
    for (let i = 0; i < 4; i++) ids.push(await commit(repo, { message: `c${i}` }));
    tagId = await tag(repo, 'v1', { target: ids[1] as string, message: 'annotated' });
    repo256 = await makeRepo({ objectFormat: 'sha256' });
    await commit(repo256);
  });
  afterAll(async () => {
    await repo?.cleanup();
    await repo256?.cleanup();
  });

  it('detects the object format', async () => {
    const a = await GitRepository.open(repo.dir);
    const b = await GitRepository.open(repo256.dir);
    expect(a.objectFormat).toBe('sha1');
    expect(b.objectFormat).toBe('sha256');
    const head = await b.readObject('HEAD', 'commit');
    expect(head.oid).toMatch(/^[0-9a-f]{64}$/);
    expect(computeObjectId('commit', head.raw, 'sha256')).toBe(head.oid);
    a.close();
    b.close();
  });

  it('reads exact raw bytes by id, HEAD, branch and tag name', async () => {
    const r = await GitRepository.open(repo.dir);
    try {
      const byId = await r.readObject(ids[0] as string);
      expect(byId.kind).toBe('commit');
      expect(byId.raw.equals(await catFile(repo, ids[0] as string))).toBe(true);
      expect((await r.readObject('HEAD')).oid).toBe(ids[3]);
      expect((await r.readObject('main', 'commit')).oid).toBe(ids[3]);
      const t = await r.readObject('v1', 'tag');
      expect(t.oid).toBe(tagId);
      expect(t.raw.equals(await catFile(repo, tagId, 'tag'))).toBe(true);
      expect((await r.readObject('v1', 'commit')).oid).toBe(ids[1]);
      expect(await r.resolve((ids[2] as string).slice(0, 10))).toBe(ids[2]);
    } finally {
      r.close();
    }
  });

  it('serves many concurrent reads over one cat-file process, and restarts after close', async () => {
    const r = await GitRepository.open(repo.dir);
    const all = await Promise.all([...ids, ...ids, tagId].map((id) => r.readObject(id)));
    expect(all.map((o) => o.oid)).toEqual([...ids, ...ids, tagId]);
    r.close();
    expect((await r.readObject(ids[0] as string)).oid).toBe(ids[0]);
    r.close();
  });

  it('reports typed errors', async () => {
    const r = await GitRepository.open(repo.dir);
    try {
      expect(await errorCode(r.readObject('0'.repeat(40)))).toBe('OBJECT_NOT_FOUND');
      expect(await errorCode(r.readObject('no-such-branch'))).toBe('OBJECT_NOT_FOUND');
      expect(await errorCode(r.readObject(tagId, 'commit'))).toBe('OBJECT_TYPE_MISMATCH');
      expect(await errorCode(r.readObject('--output=/tmp/x'))).toBe('INVALID_REVISION');
      expect(await errorCode(r.readObject('HEAD\nHEAD'))).toBe('INVALID_REVISION');
      expect(await errorCode(r.readObject(''))).toBe('INVALID_REVISION');
      // still usable after the misses
      expect((await r.readObject(ids[0] as string)).oid).toBe(ids[0]);
    } finally {
      r.close();
    }
  });

  it('refuses paths that are not the top of a repository', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'sg-norepo-'));
    try {
      expect(await errorCode(GitRepository.open(empty))).toBe('REPO_NOT_FOUND');
      expect(await errorCode(GitRepository.open(path.join(empty, 'missing')))).toBe('REPO_NOT_FOUND');
      // a sub-directory of a work tree does not silently open the enclosing repository
      await mkdir(path.join(repo.dir, 'sub'));
      expect(await errorCode(GitRepository.open(path.join(repo.dir, 'sub')))).toBe('REPO_NOT_FOUND');
    } finally {
      await rm(empty, { recursive: true, force: true });
      await rm(path.join(repo.dir, 'sub'), { recursive: true, force: true });
    }
  });

  it('lists the commits of a range A..B, newest first', async () => {
    const r = await GitRepository.open(repo.dir);
    expect(await r.listCommits(`${ids[0]}..${ids[3]}`)).toEqual([ids[3], ids[2], ids[1]]);
    expect(await r.listCommits('v1..main')).toEqual([ids[3], ids[2]]);
    expect(await r.listCommits(`${ids[0]}..main`, { maxCount: 1 })).toEqual([ids[3]]);
    expect(await r.listCommits('main..main')).toEqual([]);
    expect(await errorCode(r.listCommits('main'))).toBe('INVALID_RANGE');
    expect(await errorCode(r.listCommits('--all..main'))).toBe('INVALID_REVISION');
    r.close();
  });

  it('readObject() helper reads one object and closes', async () => {
    const raw = await readObject(repo.dir, 'v1', 'tag');
    expect(computeObjectId('tag', raw, 'sha1')).toBe(tagId);
  });
});
