/**
 * Reads raw objects from a local repository with git itself: one long-lived
 * `git cat-file --batch` per repository, `git rev-parse` to resolve revisions and `git rev-list`
 * for ranges. No shell is ever involved (spawn/execFile with argument arrays); revisions are
 * resolved to object ids before they reach cat-file or rev-list. Replace refs are disabled
 * (GIT_NO_REPLACE_OBJECTS) so an object is always the one its id names, and every object read is
 * re-hashed against its id.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GitObjectError, InputError, SyncgateError } from '../errors.js';
import type { GitObjectKind, ObjectFormat } from './object-id.js';
import { GIT_OBJECT_KINDS, computeObjectId, isObjectId } from './object-id.js';

export interface GitObject {
  oid: string;
  kind: GitObjectKind;
  raw: Buffer;
}

export interface RepositoryOptions {
  /** Per git command / per object read (default 30 s). */
  timeoutMs?: number;
  /** Largest object accepted from cat-file (default 64 MiB). */
  maxObjectBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OBJECT = 64 * 1024 * 1024;

export class GitError extends SyncgateError {}

/** The environment git runs with: no inherited GIT_* redirection, no prompts, no replace refs. */
function gitEnv(ceiling: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return { ...env, GIT_NO_REPLACE_OBJECTS: '1', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', GIT_CEILING_DIRECTORIES: ceiling, LC_ALL: 'C' };
}

/** Rejects revisions that git could read as options or that cannot be a revision at all. */
export function assertSafeRevision(rev: string): void {
  if (typeof rev !== 'string' || rev.length === 0 || rev.length > 1024 || rev.startsWith('-') || /[\s\p{Cc}]/u.test(rev)) {
    throw new InputError('INVALID_REVISION', `invalid revision ${JSON.stringify(String(rev).slice(0, 100))}`);
  }
}

interface Pending {
  oid: string;
  resolve: (o: GitObject) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One `git cat-file --batch` child; answers come back in request order. */
class CatFileBatch {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private stderr = '';
  dead = false;

  constructor(
    private readonly cwd: string,
    env: NodeJS.ProcessEnv,
    private readonly timeoutMs: number,
    private readonly maxObjectBytes: number,
  ) {
    this.child = spawn('git', ['-C', cwd, 'cat-file', '--batch'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-2000);
    });
    this.child.on('error', (err) => this.fail(new GitError('GIT_ERROR', `git cat-file could not run: ${err.message}`)));
    this.child.on('close', (code) => this.fail(new GitError('GIT_ERROR', `git cat-file exited (${code ?? 'signal'}): ${this.stderr.trim() || 'no output'}`)));
    this.child.stdin.on('error', () => undefined);
  }

  read(oid: string): Promise<GitObject> {
    if (this.dead) return Promise.reject(new GitError('GIT_ERROR', 'git cat-file is not running'));
    return new Promise<GitObject>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new GitError('GIT_TIMEOUT', `git cat-file did not answer for ${oid} within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.queue.push({ oid, resolve, reject, timer });
      this.child.stdin.write(`${oid}\n`);
    });
  }

  close(): void {
    this.dead = true;
    this.child.stdin.end();
    this.child.kill();
  }

  private fail(err: Error): void {
    if (!this.dead) {
      this.dead = true;
      this.child.kill();
    }
    for (const p of this.queue.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const head = this.queue[0];
      if (!head) {
        if (this.buffer.length) this.fail(new GitError('GIT_ERROR', 'git cat-file sent unexpected output'));
        return;
      }
      const eol = this.buffer.indexOf(0x0a);
      if (eol < 0) return;
      const header = this.buffer.subarray(0, eol).toString('latin1');
      const missing = /^(\S+) (missing|ambiguous)$/.exec(header);
      if (missing) {
        this.buffer = this.buffer.subarray(eol + 1);
        this.settle(() => head.reject(new GitObjectError('OBJECT_NOT_FOUND', `object ${head.oid} is not in the repository ${this.cwd}`)));
        continue;
      }
      const m = /^([0-9a-f]+) ([a-z]+) (\d+)$/.exec(header);
      if (!m || m[1] !== head.oid) {
        this.fail(new GitError('GIT_ERROR', `unexpected git cat-file answer for ${head.oid}`));
        return;
      }
      const size = Number(m[3]);
      if (size > this.maxObjectBytes) {
        this.fail(new GitObjectError('OBJECT_TOO_LARGE', `object ${head.oid} is ${size} bytes, over the ${this.maxObjectBytes}-byte limit`));
        return;
      }
      if (this.buffer.length < eol + 1 + size + 1) return;
      const raw = Buffer.from(this.buffer.subarray(eol + 1, eol + 1 + size));
      this.buffer = this.buffer.subarray(eol + 1 + size + 1);
      const kind = m[2] as GitObjectKind;
      this.settle(() => head.resolve({ oid: head.oid, kind, raw }));
    }
  }

  private settle(fn: () => void): void {
    const head = this.queue.shift() as Pending;
    clearTimeout(head.timer);
    fn();
  }
}

export class GitRepository {
  private batch: CatFileBatch | undefined;

  private constructor(
    /** The repository directory (work tree or bare repository), as resolved on open. */
    readonly path: string,
    readonly objectFormat: ObjectFormat,
    private readonly env: NodeJS.ProcessEnv,
    private readonly timeoutMs: number,
    private readonly maxObjectBytes: number,
  ) {}

  /** Opens a repository; REPO_NOT_FOUND when `path` is not (the top of) a git repository. */
  static async open(path: string, options: RepositoryOptions = {}): Promise<GitRepository> {
    let dir: string;
    try {
      dir = await realpath(path);
      if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new GitError('REPO_NOT_FOUND', `repository ${path} does not exist or is not a directory`);
    }
    const env = gitEnv(dirname(dir));
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let format: string;
    try {
      format = (await runGit(dir, env, ['rev-parse', '--show-object-format'], timeoutMs)).toString('utf8').trim();
    } catch (err) {
      const msg = (err as Error).message;
      if (/dubious ownership/.test(msg)) throw new GitError('REPO_UNSAFE', `git refuses repository ${path}: dubious ownership (safe.directory)`);
      throw new GitError('REPO_NOT_FOUND', `${path} is not a git repository`, undefined, { cause: err });
    }
    if (format !== 'sha1' && format !== 'sha256') throw new GitError('GIT_ERROR', `unsupported object format ${JSON.stringify(format)} in ${path}`);
    return new GitRepository(dir, format, env, timeoutMs, options.maxObjectBytes ?? DEFAULT_MAX_OBJECT);
  }

  /** Resolves a revision (HEAD, branch, tag name, full or abbreviated id) to a full object id. */
  async resolve(rev: string, peelTo?: GitObjectKind): Promise<string> {
    assertSafeRevision(rev);
    let out: Buffer;
    try {
      out = await runGit(this.path, this.env, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{${peelTo ?? 'object'}}`], this.timeoutMs);
    } catch (err) {
      if (err instanceof GitError && err.code === 'GIT_TIMEOUT') throw err;
      throw new GitObjectError('OBJECT_NOT_FOUND', `revision ${JSON.stringify(rev)} does not name ${peelTo ? `a ${peelTo}` : 'an object'} in ${this.path}`);
    }
    const oid = out.toString('latin1').trim();
    if (!isObjectId(oid, this.objectFormat)) throw new GitError('GIT_ERROR', `git rev-parse returned an unexpected answer for ${JSON.stringify(rev)}`);
    return oid;
  }

  /**
   * Reads one object by revision or id. With `kind`, tags are peeled to that kind (e.g. a tag name
   * read as 'commit' gives the tagged commit) and any other type is OBJECT_TYPE_MISMATCH.
   */
  async readObject(rev: string, kind?: GitObjectKind): Promise<GitObject> {
    if (kind !== undefined && !GIT_OBJECT_KINDS.includes(kind)) throw new InputError('INVALID_OBJECT_KIND', `unknown object kind ${String(kind)}`);
    const oid = isObjectId(rev, this.objectFormat) ? rev : await this.resolve(rev, kind);
    const object = await this.batchRead(oid);
    if (kind !== undefined && object.kind !== kind) {
      throw new GitObjectError('OBJECT_TYPE_MISMATCH', `object ${oid} is a ${object.kind}, not a ${kind}`);
    }
    if (computeObjectId(object.kind, object.raw, this.objectFormat) !== oid) {
      throw new GitObjectError('OBJECT_CORRUPT', `object ${oid} does not hash to its id`);
    }
    return object;
  }

  /** Commit ids of `A..B` (reachable from B, not from A), newest first, as `git rev-list` orders them. */
  async listCommits(range: string, options: { maxCount?: number } = {}): Promise<string[]> {
    const parts = range.split('..');
    if (parts.length !== 2 || range.includes('...')) throw new InputError('INVALID_RANGE', `range ${JSON.stringify(range.slice(0, 200))} is not A..B`);
    const from = await this.resolve(parts[0] || 'HEAD', 'commit');
    const to = await this.resolve(parts[1] || 'HEAD', 'commit');
    const args = ['rev-list', ...(options.maxCount !== undefined ? [`--max-count=${Math.max(0, Math.floor(options.maxCount))}`] : []), to, `^${from}`];
    const out = (await runGit(this.path, this.env, args, this.timeoutMs)).toString('latin1');
    return out.split('\n').filter((l) => l.length > 0);
  }

  /** Stops the cat-file child. The repository can still be used (a new child is started). */
  close(): void {
    this.batch?.close();
    this.batch = undefined;
  }

  private batchRead(oid: string): Promise<GitObject> {
    if (!this.batch || this.batch.dead) this.batch = new CatFileBatch(this.path, this.env, this.timeoutMs, this.maxObjectBytes);
    return this.batch.read(oid);
  }
}

function runGit(cwd: string, env: NodeJS.ProcessEnv, args: string[], timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', cwd, ...args], { env, encoding: 'buffer', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const killed = (err as NodeJS.ErrnoException & { killed?: boolean }).killed;
        const detail = Buffer.isBuffer(stderr) ? stderr.toString('utf8').trim().slice(0, 500) : '';
        reject(new GitError(killed ? 'GIT_TIMEOUT' : 'GIT_ERROR', `git ${args[0]} failed: ${detail || err.message}`));
        return;
      }
      resolve(stdout);
    });
  });
}

/** Convenience for one-off reads: opens the repository, reads one object's raw bytes, closes. */
export async function readObject(repoPath: string, rev: string, kind: 'commit' | 'tag'): Promise<Buffer> {
  const repo = await GitRepository.open(repoPath);
  try {
    return (await repo.readObject(rev, kind)).raw;
  } finally {
    repo.close();
  }
}
