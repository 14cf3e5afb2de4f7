/**
 * Test repositories made with the real git: signed commits (`git commit -S`) and tags
 * (`git tag -s`), with gpg from a GpgHome; optionally dated in the past (committer date and gpg's
 * --faked-system-time) or with a chosen digest algorithm.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GpgHome } from './gpg.js';
import { fakedTime } from './gpg.js';

export interface TestRepo {
  dir: string;
  objectFormat: 'sha1' | 'sha256';
  gpg?: GpgHome;
  git(args: string[], options?: { input?: Buffer | string; env?: NodeJS.ProcessEnv }): Promise<Buffer>;
  cleanup(): Promise<void>;
}

export interface SignOptions {
  /** Key or subkey fingerprint to sign with (`-S<fpr>`); unsigned when absent. */
  sign?: string;
  message?: string;
  /** Author/committer date, and gpg's faked system time when signing. */
  date?: Date;
  /** e.g. "SHA1" (gpg --digest-algo). */
  digestAlgo?: string;
}

let wrapperCount = 0;

function gitEnv(gpg?: GpgHome): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return {
    ...env,
    ...(gpg ? { GNUPGHOME: gpg.dir } : {}),
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Test Author',
    GIT_AUTHOR_EMAIL: 'author@example.invalid',
    GIT_COMMITTER_NAME: 'Test Committer',
    GIT_COMMITTER_EMAIL: 'committer@example.invalid',
  };
}

export async function makeRepo(options: { objectFormat?: 'sha1' | 'sha256'; gpg?: GpgHome } = {}): Promise<TestRepo> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-repo-'));
  const objectFormat = options.objectFormat ?? 'sha1';
  const baseEnv = gitEnv(options.gpg);
  const git = (args: string[], o: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const child = execFile('git', ['-C', dir, ...args], { env: { ...baseEnv, ...o.env }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args.join(' ')} failed: ${stderr.toString('utf8')}`));
        else resolve(stdout);
      });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(o.input ?? '');
    });
  await git(['init', '-q', `--object-format=${objectFormat}`, '-b', 'main']);
  return { dir, objectFormat, ...(options.gpg ? { gpg: options.gpg } : {}), git, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A gpg wrapper for gpg.program that adds the faked time / digest algorithm. */
async function gpgProgram(repo: TestRepo, options: SignOptions): Promise<string[]> {
  const extra = [...(options.date ? ['--faked-system-time', fakedTime(options.date)] : []), ...(options.digestAlgo ? ['--digest-algo', options.digestAlgo] : [])];
  if (extra.length === 0) return [];
  const file = path.join(repo.dir, '.git', `gpg-wrapper-${++wrapperCount}.sh`);
  await writeFile(file, `#!/bin/sh\nexec gpg ${extra.join(' ')} "$@"\n`);
  await chmod(file, 0o755);
  return ['-c', `gpg.program=${file}`];
}

function dateEnv(date?: Date): NodeJS.ProcessEnv {
  if (!date) return {};
  const stamp = `${Math.floor(date.getTime() / 1000)} +0000`;
  return { GIT_AUTHOR_DATE: stamp, GIT_COMMITTER_DATE: stamp };
}

/** Commits a change (a new file) and returns the commit id. */
export async function commit(repo: TestRepo, options: SignOptions = {}): Promise<string> {
  const n = ++wrapperCount;
  await writeFile(path.join(repo.dir, `file-${n}.txt`), `content ${n}\n`);
  await repo.git(['add', '-A', '--', `file-${n}.txt`]);
  const program = await gpgProgram(repo, options);
  const sign = options.sign ? [`-S${options.sign}!`] : ['--no-gpg-sign'];
  await repo.git([...program, 'commit', '-q', ...sign, '-m', options.message ?? `commit ${n}`], { env: dateEnv(options.date) });
  return (await repo.git(['rev-parse', 'HEAD'])).toString('utf8').trim();
}

/** Creates an annotated (signed when `sign`) tag and returns the tag object id. */
export async function tag(repo: TestRepo, name: string, options: SignOptions & { target?: string } = {}): Promise<string> {
  const program = await gpgProgram(repo, options);
  const sign = options.sign ? [`--local-user=${options.sign}!`] : ['-a'];
  await repo.git([...program, 'tag', ...sign, '-m', options.message ?? `tag ${name}`, name, options.target ?? 'HEAD'], { env: dateEnv(options.date) });
  return (await repo.git(['rev-parse', `refs/tags/${name}`])).toString('utf8').trim();
}

/** Exact bytes of `git cat-file <kind> <id>`. */
export async function catFile(repo: TestRepo, id: string, kind: 'commit' | 'tag' = 'commit'): Promise<Buffer> {
  return repo.git(['cat-file', kind, id]);
}

/** Writes raw bytes as an object (even malformed ones) and returns its id. */
export async function writeObject(repo: TestRepo, kind: 'commit' | 'tag', raw: Buffer): Promise<string> {
  return (await repo.git(['hash-object', '-t', kind, '-w', '--literally', '--stdin'], { input: raw })).toString('utf8').trim();
}
