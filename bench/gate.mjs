// The gate end to end: `syncgate serve` in its own process with the shipped policy library,
// driven over HTTP on 127.0.0.1 by autocannon (npm registry). A typical application: 150
// manifests (~0.5 MB of YAML), a signed commit, 10 sealed values delivered inline. Also: the
// admission webhook (one Pod against the policies, over HTTPS), memory, cold start to /readyz, and
// how latency grows with the number of manifests.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import yaml from 'js-yaml';
import { formatPrivateKey, generateSealingKey } from '../dist/secrets/index.js';
import { generateCompliantApplication } from './gate-app.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

async function startGate(dir, config) {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, yaml.dump(config));
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'serve', '--config', file], { stdio: ['ignore', 'ignore', 'ignore'] });
  const url = `http://${config.listen}`;
  for (;;) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) break;
    if (performance.now() - started > 30_000) throw new Error('the gate did not become ready in 30 s');
    await sleep(2);
  }
  return { child, url, coldStartMs: performance.now() - started };
}

async function stopGate(child) {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

async function load(opts) {
  const result = await autocannon({ ...opts, method: 'POST', headers: { 'content-type': 'application/json' } });
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average, ok: result['2xx'], other: result.non2xx + result.errors + result.timeouts };
}

function selfSignedCert(dir) {
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=bench', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

export async function run({ quick }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncgate-bench-gate-'));
  try {
    const example = JSON.parse(readFileSync(path.join(ROOT, 'examples', 'allowed-request.json'), 'utf8'));
    const sealingKey = generateSealingKey();
    mkdirSync(path.join(dir, 'keys'));
    writeFileSync(path.join(dir, 'keys', `sealing-${sealingKey.keyId}.key`), formatPrivateKey(sealingKey), { mode: 0o600 });
    const tls = selfSignedCert(dir);
    const config = {
      listen: '127.0.0.1:18611',
      log: { level: 'info' },
      trust: { keyrings: [path.join(ROOT, 'keys.example', 'dev-signing-key.pub.asc')], rules: [{ repositories: ['**'], openpgp: { fingerprints: ['C503BE2428F6AF82B0BC0D959C6248A8E70FAD5C'] } }] },
      policies: { paths: [path.join(ROOT, 'policies')] },
      sealing: { keyFiles: [path.join(dir, 'keys')], delivery: 'inline' },
      admission: { listen: '127.0.0.1:18612', certFile: tls.cert, keyFile: tls.key },
      audit: { path: path.join(dir, 'audit', 'audit.jsonl') },
    };

    const manifests = generateCompliantApplication(150, { publicKey: sealingKey, sealedValues: 10 });
    const manifestYaml = manifests.map((m) => yaml.dump(m)).join('---\n');
    const body = JSON.stringify({ revision: example.revision, commit: example.commit, repository: 'https://git.example.invalid/acme/shop.git', application: { name: 'shop', project: 'default', destination: { namespace: 'shop' } }, manifests: manifestYaml });

    const gate = await startGate(dir, config);
    try {
      await sleep(1000);
      const idleRss = rssMiB(gate.child.pid);
      const first = await fetch(`${gate.url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const decision = await first.json();
      if (first.status !== 200) throw new Error(`the benchmark application is not allowed: ${JSON.stringify(decision.reasons).slice(0, 500)}`);
      console.log(`application: ${manifests.length} manifests, ${(Buffer.byteLength(manifestYaml) / 1024).toFixed(0)} KiB of YAML, ${decision.policy.policies} policies (${decision.policy.counts.pass} rule passes), ${decision.secrets.delivered.reduce((n, s) => n + s.keys.length, 0)} sealed values delivered inline`);
      console.log(`cold start to /readyz: ${gate.coldStartMs.toFixed(0)} ms (target ≤ 500 ms); idle RSS ${idleRss.toFixed(0)} MiB (target ≤ 80 MiB)`);

      await load({ url: `${gate.url}/v1/gate`, body, connections: 16, duration: quick ? 1 : 3 }); // warm-up
      const runs = [];
      let peakRss = 0;
      for (let i = 0; i < (quick ? 1 : 3); i++) {
        const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(gate.child.pid))), 100);
        runs.push(await load({ url: `${gate.url}/v1/gate`, body, connections: 16, duration: quick ? 2 : 10 }));
        clearInterval(sampler);
      }
      const failed = runs.reduce((n, r) => n + r.other, 0);
      console.log(`gate decision, concurrency 16, ${runs.length} run(s) of ${quick ? 2 : 10} s (autocannon; latency in whole ms):`);
      console.log(`  p50 ${median(runs.map((r) => r.p50))} ms (runs ${spread(runs.map((r) => r.p50))}; target ≤ 8 ms)`);
      console.log(`  p99 ${median(runs.map((r) => r.p99))} ms (runs ${spread(runs.map((r) => r.p99))}; target ≤ 25 ms)`);
      console.log(`  ${median(runs.map((r) => r.rps)).toFixed(0)} decisions/s (runs ${spread(runs.map((r) => r.rps))}; target ≥ 300); ${failed} not 200`);
      console.log(`  peak RSS under load ${peakRss.toFixed(0)} MiB (target ≤ 160 MiB)`);

      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', labels: { 'app.kubernetes.io/name': 'web' } }, spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'web', image: 'registry.k8s.io/web:1.0', resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } }, securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } } }] } };
      const review = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: '1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'shop', name: 'web', operation: 'CREATE', userInfo: { username: 'bench' }, object: pod, dryRun: false } });
      await load({ url: 'https://127.0.0.1:18612/v1/admission', body: review, connections: 100, duration: 1 });
      const adm = [];
      for (let i = 0; i < (quick ? 1 : 3); i++) adm.push(await load({ url: 'https://127.0.0.1:18612/v1/admission', body: review, connections: 100, duration: quick ? 2 : 10 }));
      console.log(`admission webhook, one Pod, concurrency 100 over HTTPS, ${adm.length} run(s):`);
      console.log(`  p50 ${median(adm.map((r) => r.p50))} ms, p99 ${median(adm.map((r) => r.p99))} ms (runs ${spread(adm.map((r) => r.p99))}; target p99 ≤ 5 ms), ${median(adm.map((r) => r.rps)).toFixed(0)} reviews/s`);

      console.log('growth (sequential decisions, median of the timed ones):');
      for (const n of quick ? [10, 100] : [10, 100, 1000, 5000]) {
        const app = generateCompliantApplication(n, { publicKey: sealingKey, sealedValues: Math.min(10, n) });
        const b = JSON.stringify({ ...JSON.parse(body), manifests: app.map((m) => yaml.dump(m)).join('---\n') });
        const times = [];
        const reps = n >= 1000 ? 5 : 20;
        for (let i = 0; i < reps + 2; i++) {
          const t = performance.now();
          const res = await fetch(`${gate.url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`growth run with ${n} manifests not allowed (${res.status})`);
          if (i >= 2) times.push(performance.now() - t);
        }
        const m = median(times);
        console.log(`  ${String(n).padStart(5)} manifests (${(Buffer.byteLength(b) / 1024).toFixed(0).padStart(6)} KiB): ${m.toFixed(1).padStart(8)} ms/decision, ${((m * 1000) / n).toFixed(0).padStart(5)} µs/manifest`);
      }
    } finally {
      await stopGate(gate.child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
