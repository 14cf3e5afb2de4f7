// Commit verification: N signed commits made at bench time with real gpg and git, verified by
// syncgate's SignatureVerifier (cold cache, then cached) and by a `git verify-commit` loop over
// the same commits, in one run. SSH signatures (against ssh-keygen -Y verify): verify-ssh.mjs; gitsign: verify-gitsign.mjs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadKeyring } from '../dist/signatures/keyring.js';
import { SignatureVerifier } from '../dist/signatures/verify.js';
import { run as runSsh } from './verify-ssh.mjs';
import { run as runGitsign } from './verify-gitsign.mjs';
import { fmt, sh, timeCommits } from './verify-timing.mjs';

function makeCommits(dir, algo, count) {
  const env = { ...process.env, GNUPGHOME: path.join(dir, 'gnupg'), GIT_CONFIG_NOSYSTEM: '1', HOME: dir };
  sh('mkdir', ['-m', '700', env.GNUPGHOME]);
  sh('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', `Bench ${algo} <bench-${algo}@example.invalid>`, algo, 'sign', 'never'], { env, stdio: 'ignore' });
  const fpr = sh('gpg', ['--with-colons', '--list-keys'], { env }).toString().split('\n').find((l) => l.startsWith('fpr'))?.split(':')[9];
  const keyFile = path.join(dir, `${algo}.asc`);
  writeFileSync(keyFile, sh('gpg', ['--armor', '--export', fpr], { env }));
  const repo = path.join(dir, 'repo');
  sh('git', ['init', '-q', repo], { env });
  const git = (...a) => sh('git', ['-C', repo, '-c', 'user.name=Bench', '-c', 'user.email=bench@example.invalid', '-c', `user.signingkey=${fpr}`, ...a], { env }).toString().trim();
  const tree = git('hash-object', '-t', 'tree', '-w', '/dev/null');
  const shas = [];
  let parent;
  for (let i = 0; i < count; i++) {
    parent = git('commit-tree', '-S', ...(parent ? ['-p', parent] : []), '-m', `commit ${i}`, tree);
    shas.push(parent);
  }
  const raws = shas.map((sha) => sh('git', ['-C', repo, 'cat-file', 'commit', sha], { env }));
  return { env, repo, keyFile, shas, raws };
}

export async function run({ quick }) {
  const count = quick ? 50 : 1000;
  for (const algo of ['ed25519', 'rsa4096']) {
    const dir = mkdtempSync(path.join(tmpdir(), 'syncgate-bench-'));
    try {
      const t0 = performance.now();
      const { env, repo, keyFile, shas, raws } = makeCommits(dir, algo, count);
      const setup = performance.now() - t0;
      const keyring = await loadKeyring([keyFile]);
      const trust = { keyrings: [keyFile], rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: true, allowSha1: [], allowDsa: [] } }] };
      const verifier = new SignatureVerifier({ keyring, trust, cacheSize: count * 2 });

      const { cold, cached } = await timeCommits(verifier, raws);

      const start = performance.now();
      for (const sha of shas) sh('git', ['-C', repo, 'verify-commit', sha], { env, stdio: 'ignore' });
      const git = (performance.now() - start) / count;

      console.log(`${algo}: ${count} commits (made in ${(setup / 1000).toFixed(1)} s)`);
      console.log(`  git verify-commit loop     ${fmt(git)} per commit`);
      console.log(`  syncgate, cold cache       ${fmt(cold)} per commit   ratio ${(git / cold).toFixed(1)}x faster`);
      console.log(`  syncgate, cached           ${fmt(cached)} per commit   ratio ${(git / cached).toFixed(0)}x faster`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await runSsh({ quick });
  await runGitsign({ quick });
}
