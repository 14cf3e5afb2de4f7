// SSH commit verification: N commits signed at bench time by git with gpg.format=ssh and an
// ed25519 key made by ssh-keygen, verified by syncgate's SignatureVerifier (SSH method; cold cache,
// then cached) and by `ssh-keygen -Y verify` (what git runs) on the same signatures and payloads,
// in the same run.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { extractSignature, parseGitObject } from '../dist/git/object.js';
import { Keyring } from '../dist/signatures/keyring.js';
import { loadSshVerifier } from '../dist/signatures/ssh/index.js';
import { SignatureVerifier } from '../dist/signatures/verify.js';
import { fmt, sh, timeCommits } from './verify-timing.mjs';

const EMAIL = 'bench@example.invalid';

function makeCommits(dir, count) {
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: dir };
  const key = path.join(dir, 'id_ed25519');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', key]);
  const [type, b64] = readFileSync(`${key}.pub`, 'utf8').trim().split(/\s+/);
  const allowedSigners = path.join(dir, 'allowed_signers');
  writeFileSync(allowedSigners, `${EMAIL} namespaces="git" ${type} ${b64}\n`);
  const repo = path.join(dir, 'repo');
  sh('git', ['init', '-q', repo], { env });
  const git = (...a) =>
    sh('git', ['-C', repo, '-c', 'user.name=Bench', '-c', `user.email=${EMAIL}`, '-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`, ...a], { env }).toString().trim();
  const tree = git('hash-object', '-t', 'tree', '-w', '/dev/null');
  const shas = [];
  let parent;
  for (let i = 0; i < count; i++) {
    parent = git('commit-tree', '-S', ...(parent ? ['-p', parent] : []), '-m', `commit ${i}`, tree);
    shas.push(parent);
  }
  const raws = shas.map((sha) => sh('git', ['-C', repo, 'cat-file', 'commit', sha], { env }));
  // The exact payload and signature git hands to ssh-keygen, one pair of files per commit.
  const files = path.join(dir, 'sigs');
  mkdirSync(files);
  const pairs = raws.map((raw, i) => {
    const parts = extractSignature(parseGitObject(raw, 'commit'));
    const sig = path.join(files, `${i}.sig`);
    writeFileSync(sig, parts.signature);
    return { sig, payload: parts.payload };
  });
  return { allowedSigners, raws, pairs };
}

export async function run({ quick }) {
  const count = quick ? 50 : 1000;
  const dir = mkdtempSync(path.join(tmpdir(), 'syncgate-bench-ssh-'));
  try {
    const t0 = performance.now();
    const { allowedSigners, raws, pairs } = makeCommits(dir, count);
    const setup = performance.now() - t0;
    const trust = {
      keyrings: [],
      allowedSigners: [allowedSigners],
      rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, ssh: { principals: [], anyAllowedSigner: true, requireCommitterMatch: true, windowAt: 'now' } }],
    };
    const verifier = new SignatureVerifier({ keyring: new Keyring(), trust, methods: [await loadSshVerifier(trust)], cacheSize: count * 2 });

    const { cold, cached } = await timeCommits(verifier, raws);

    const start = performance.now();
    for (const { sig, payload } of pairs) {
      const out = sh('ssh-keygen', ['-Y', 'verify', '-n', 'git', '-f', allowedSigners, '-I', EMAIL, '-s', sig], { input: payload, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
      if (!out.startsWith('Good')) throw new Error(`ssh-keygen did not verify ${sig}: ${out}`);
    }
    const keygen = (performance.now() - start) / count;

    console.log(`ssh-ed25519: ${count} commits signed by git with gpg.format=ssh (made in ${(setup / 1000).toFixed(1)} s)`);
    console.log(`  ssh-keygen -Y verify loop  ${fmt(keygen)} per signature`);
    console.log(`  syncgate, cold cache       ${fmt(cold)} per signature   ratio ${(keygen / cold).toFixed(1)}x faster`);
    console.log(`  syncgate, cached           ${fmt(cached)} per signature   ratio ${(keygen / cached).toFixed(0)}x faster`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
