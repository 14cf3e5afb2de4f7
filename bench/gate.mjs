// The gate end to end: `syncgate serve` in its own process with the shipped policy library,
// driven over HTTP on 127.0.0.1 by autocannon (npm registry) from this process. A typical
// application: 150 manifests (~0.4 MB of YAML), a signed commit, 10 sealed values delivered
// inline. Four scenarios: decisions at concurrency 16 with RSS (runDecisions), the admission
// webhook (one Pod against the policies, over HTTPS; runAdmission), cold start to /readyz and idle
// RSS (runStartup), and how latency grows with the number of manifests (runGrowth).
// SYNCGATE_BENCH_NODE_ARGS (space-separated) is passed to the gate's node, e.g. "--cpu-prof";
// SYNCGATE_BENCH_CLI starts another build of the CLI, e.g. dist/cli/main.js (tsc's output).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import yaml from 'js-yaml';
import { keySecretManifest } from '../dist/kube/key-secrets.js';
import { formatPrivateKey, generateSealingKey } from '../dist/secrets/index.js';
import { SERVE_NODE_FLAGS } from '../dist/server/young-generation.js';
import { generateCompliantApplication } from './gate-app.mjs';
import { startKubeApi } from './kube-api.mjs';
import { openLoop } from './open-loop.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The shipped CLI: the bundle (rolldown.config.mjs), or SYNCGATE_BENCH_CLI to compare another
// build. The startup scenario also starts tsc's output, dist/cli/main.js, unbundled, to show
// what the bundle is worth.
const UNBUNDLED_CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const CLI = process.env.SYNCGATE_BENCH_CLI ? path.resolve(process.env.SYNCGATE_BENCH_CLI) : path.join(ROOT, 'dist', 'bundle', 'syncgate.js');

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU time (user + system) of a process so far, in ms: what the latencies cost, and less noisy than they are. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const spread = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

async function startGate(dir, config, cli = CLI) {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, yaml.dump(config));
  const started = performance.now();
  const nodeArgs = (process.env.SYNCGATE_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  // node's flags as the image's ENTRYPOINT and npm start give them (young-generation.ts), then any of the bench's own
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...nodeArgs, cli, 'serve', '--config', file], { stdio: ['ignore', process.env.BENCH_GATE_STDOUT ? 'inherit' : 'ignore', 'ignore'] });
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

const EXAMPLE = JSON.parse(readFileSync(path.join(ROOT, 'examples', 'allowed-request.json'), 'utf8'));

function requestBody(manifests) {
  const manifestYaml = manifests.map((m) => yaml.dump(m)).join('---\n');
  const body = JSON.stringify({ revision: EXAMPLE.revision, commit: EXAMPLE.commit, repository: 'https://git.example.invalid/acme/shop.git', application: { name: 'shop', project: 'default', destination: { namespace: 'shop' } }, manifests: manifestYaml });
  return { body, yamlBytes: Buffer.byteLength(manifestYaml) };
}

/** A port free on 127.0.0.1 now (two benchmarks on one machine must not meet on fixed ports). */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A scratch directory with a sealing key, a TLS certificate and the gate's configuration; removed after fn. */
async function withSetup(fn) {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncgate-bench-gate-'));
  try {
    const sealingKey = generateSealingKey();
    mkdirSync(path.join(dir, 'keys'));
    writeFileSync(path.join(dir, 'keys', `sealing-${sealingKey.keyId}.key`), formatPrivateKey(sealingKey), { mode: 0o600 });
    const tls = selfSignedCert(dir);
    const config = {
      listen: `127.0.0.1:${await freePort()}`,
      log: { level: 'info' },
      trust: { keyrings: [path.join(ROOT, 'keys.example', 'dev-signing-key.pub.asc')], rules: [{ repositories: ['**'], openpgp: { fingerprints: ['C503BE2428F6AF82B0BC0D959C6248A8E70FAD5C'] } }] },
      policies: { paths: [path.join(ROOT, 'policies')] },
      sealing: { keyFiles: [path.join(dir, 'keys')], delivery: 'inline' },
      admission: { listen: `127.0.0.1:${await freePort()}`, certFile: tls.cert, keyFile: tls.key },
      audit: { path: path.join(dir, 'audit', 'audit.jsonl') },
    };
    return await fn({ dir, config, sealingKey });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withGate(dir, config, fn, cli = CLI) {
  const gate = await startGate(dir, config, cli);
  try {
    return await fn(gate);
  } finally {
    await stopGate(gate.child);
  }
}

async function decide(url, body) {
  const res = await fetch(`${url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const decision = await res.json();
  if (res.status !== 200) throw new Error(`the benchmark application is not allowed (${res.status}): ${JSON.stringify(decision.reasons).slice(0, 500)}`);
  return decision;
}

/**
 * Runs `opts` `rounds` times, sampling the gate's RSS; medians and ranges of the runs. With
 * `rate`, an open-loop load (bench/open-loop.mjs) at that many requests per second; without,
 * autocannon's closed loop (`connections` requests always in flight).
 */
async function phase(gate, label, opts, { rounds, duration }) {
  const runs = [];
  const peaks = [];
  for (let i = 0; i < rounds; i++) {
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(gate.child.pid))), 100);
    const cpuBefore = cpuMs(gate.child.pid);
    const r = opts.rate ? await openLoop({ url: opts.url, body: opts.bodyFn, connections: opts.connections, rate: opts.rate, duration }) : await load({ ...opts, duration });
    runs.push({ ...r, cpuMs: (cpuMs(gate.child.pid) - cpuBefore) / (r.rps * duration) });
    clearInterval(sampler);
    peaks.push(peak);
  }
  const failed = runs.reduce((n, r) => n + r.other, 0);
  const ms = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  console.log(`${label}: ${runs.length} run(s) of ${duration} s`);
  console.log(`  p50 ${ms(median(runs.map((r) => r.p50)))} ms [${spread(runs.map((r) => r.p50))}], p99 ${ms(median(runs.map((r) => r.p99)))} ms [${spread(runs.map((r) => r.p99))}]  (targets ≤ 8 ms, ≤ 25 ms)`);
  console.log(`  ${median(runs.map((r) => r.rps)).toFixed(0)} decisions/s [${spread(runs.map((r) => r.rps))}]  (target ≥ 300); ${failed} answers not 200${opts.rate ? `; the generator sent p99 ${ms(median(runs.map((r) => r.lateP99)))} ms late` : ''}; gate CPU ${median(runs.map((r) => r.cpuMs)).toFixed(2)} ms/decision [${spread(runs.map((r) => r.cpuMs))}]; peak RSS ${median(peaks).toFixed(0)} MiB [${spread(peaks)}]  (target ≤ 160 MiB)`);
}

/**
 * Gate decisions for the typical application at concurrency 16: open loop at 300 decisions/s
 * over at most 16 connections (a request due while all 16 are busy waits, and its latency counts
 * from when it was due), and as fast as the gate answers (closed loop: autocannon keeps 16
 * requests in flight), each for a re-render of the same revision and for a new commit that
 * changes one manifest per request; then the closed loop with the document cache turned off.
 * RSS idle and under load.
 */
export async function runDecisions({ quick }) {
  return withSetup(async ({ dir, config, sealingKey }) => {
    const manifests = generateCompliantApplication(150, { publicKey: sealingKey, sealedValues: 10 });
    // One ConfigMap value carries a marker that a new commit changes: one document differs per request.
    const changing = manifests.findIndex((m) => m.kind === 'ConfigMap');
    manifests[changing] = { ...manifests[changing], data: { ...manifests[changing].data, revision: 'REVISION-MARKER' } };
    const { body, yamlBytes } = requestBody(manifests);
    let commits = 0;
    const newCommitBody = () => body.replace('REVISION-MARKER', `commit-${++commits}`);
    // The same bodies for the open loop, as pieces around the marker (no 400 KiB string per request).
    const [beforeMarker, afterMarker, ...more] = body.split('REVISION-MARKER').map((part) => Buffer.from(part));
    if (!afterMarker || more.length > 0) throw new Error('the benchmark application must hold the revision marker once');
    const newCommitPieces = () => [beforeMarker, `commit-${++commits}`, afterMarker];
    const newCommit = (req) => ({ ...req, body: newCommitBody() });
    const opts = { url: '', body, connections: 16 };
    const timing = { rounds: quick ? 1 : 3, duration: quick ? 2 : 5 };

    await withGate(dir, config, async (gate) => {
      opts.url = `${gate.url}/v1/gate`;
      await sleep(1000);
      const idleRss = rssMiB(gate.child.pid);
      const decision = await decide(gate.url, body);
      console.log(`application: ${manifests.length} manifests, ${(yamlBytes / 1024).toFixed(0)} KiB of YAML (${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB request), ${decision.policy.policies} policies (${decision.policy.counts.pass} rule passes), ${decision.secrets.delivered.reduce((n, s) => n + s.keys.length, 0)} sealed values delivered inline`);
      console.log(`idle RSS 1 s after ready, before the first decision: ${idleRss.toFixed(0)} MiB (target ≤ 80 MiB)`);
      console.log('the load generator runs in the bench process, sharing the two cores with the gate; median of runs, range in brackets');
      // Warm-up at the rate measured next: a closed-loop burst here left the heap grown by
      // flat-out load, and the open-loop phases' peak RSS measured that instead of their own.
      const bodyBytes = Buffer.from(body);
      await openLoop({ url: opts.url, body: () => bodyBytes, connections: 16, rate: 300, duration: quick ? 1 : 3 });
      await phase(gate, 'open loop at 300/s, at most 16 connections, the same rendering each time', { ...opts, rate: 300, bodyFn: () => bodyBytes }, timing);
      await phase(gate, 'open loop at 300/s, at most 16 connections, a new commit changing one manifest per request', { ...opts, rate: 300, bodyFn: newCommitPieces }, timing);
      await phase(gate, 'closed loop (autocannon), 16 in flight, the same rendering each time', opts, timing);
      await phase(gate, 'closed loop (autocannon), 16 in flight, a new commit changing one manifest per request', { ...opts, requests: [{ setupRequest: newCommit }] }, timing);
      console.log(`  RSS after the load ${rssMiB(gate.child.pid).toFixed(0)} MiB`);
    });
    // Without the cache every document is parsed and evaluated on every request (the cost of a first sight).
    await withGate(dir, { ...config, limits: { manifestCacheBytes: 0 } }, async (gate) => {
      await decide(gate.url, body);
      const uncached = { ...opts, url: `${gate.url}/v1/gate` };
      await load({ ...uncached, duration: quick ? 1 : 3 }); // warm-up
      await phase(gate, 'closed loop (autocannon), 16 in flight, document cache off (limits.manifestCacheBytes: 0)', uncached, timing);
    });
  });
}

/**
 * The admission webhook: one Pod against the policies over HTTPS with 100 connections, as fast
 * as the gate answers (closed loop: 100 reviews always in flight, autocannon), and at fixed
 * offered rates (open loop, below); the same Pod each time, and a new Pod (name, uid) per review
 * as a cluster sends them. With the gate's CPU time per review (from /proc).
 *
 * The offered rates are not autocannon's overallRate: that gives each connection a budget per
 * second, which all connections spend at the start of each second (1,000/s over 100 connections
 * is a burst of 1,000 reviews 100 at a time, then nothing), and it "corrects" the latencies with
 * an expected interval of 1 ms whatever the rate, so a few slow answers stand for most of the
 * histogram. Here a review is due every 1/rate s; it goes out on a free connection (or waits for
 * one) and its latency counts from when it was due, so a stall is charged to every review it delays.
 */
export async function runAdmission({ quick }) {
  const podNamed = (name) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels: { 'app.kubernetes.io/name': 'web' } }, spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'web', image: 'registry.k8s.io/web:1.0', resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } }, securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } } }] } });
  const reviewOf = (uid, name) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'shop', name, operation: 'CREATE', userInfo: { username: 'bench' }, object: podNamed(name), dryRun: false } });
  const review = reviewOf('1', 'web');
  let made = 0;
  const newPod = () => {
    const n = String(++made).padStart(8, '0');
    return reviewOf(`00000000-0000-4000-8000-0000${n}`, `web-${n}`);
  };

  return withSetup(({ dir, config }) =>
    withGate(dir, config, async (gate) => {
      const url = `https://${config.admission.listen}/v1/admission`;
      // Warm-up: after 1 s of load the gate still took ~1.5x the CPU per review it takes from ~5 s on (JIT, heap sizing).
      await load({ url, body: review, connections: 100, duration: 5 });
      const timing = { rounds: quick ? 1 : 3, duration: quick ? 2 : 5 };
      const ms = (x) => x.toFixed(1);
      console.log('admission webhook, one Pod, 100 connections over HTTPS (keep-alive); the load generator in the bench process; median of runs, range in brackets');
      const phases = [
        ['closed loop, 100 in flight, the same Pod (autocannon; whole ms)', () => load({ url, body: review, connections: 100, duration: timing.duration })],
        ['closed loop, 100 in flight, a new Pod (name, uid) per review (autocannon; whole ms)', () => load({ url, body: review, connections: 100, duration: timing.duration, requests: [{ setupRequest: (req) => ({ ...req, body: newPod() }) }] })],
        ['offered 1,000/s (open loop), the same Pod', () => openLoop({ url, body: () => review, connections: 100, rate: 1000, duration: timing.duration })],
        ['offered 2,000/s (open loop), the same Pod', () => openLoop({ url, body: () => review, connections: 100, rate: 2000, duration: timing.duration })],
        ['offered 2,000/s (open loop), a new Pod (name, uid) per review', () => openLoop({ url, body: newPod, connections: 100, rate: 2000, duration: timing.duration })],
      ];
      for (const [label, run] of phases) {
        const runs = [];
        for (let i = 0; i < timing.rounds; i++) {
          const before = cpuMs(gate.child.pid);
          const r = await run();
          runs.push({ ...r, cpuUs: ((cpuMs(gate.child.pid) - before) * 1000) / (r.rps * timing.duration) });
        }
        const lateness = runs[0].lateP99 === undefined ? '' : `; the generator sent p99 ${ms(median(runs.map((r) => r.lateP99)))} ms late`;
        console.log(`${label}: ${runs.length} run(s) of ${timing.duration} s`);
        console.log(`  p50 ${ms(median(runs.map((r) => r.p50)))} ms [${spread(runs.map((r) => r.p50))}], p99 ${ms(median(runs.map((r) => r.p99)))} ms [${spread(runs.map((r) => r.p99))}]  (target p99 ≤ 5 ms); ${median(runs.map((r) => r.rps)).toFixed(0)} reviews/s [${spread(runs.map((r) => r.rps))}]; ${runs.reduce((n, r) => n + r.other, 0)} answers not 200${lateness}; gate CPU ${median(runs.map((r) => r.cpuUs)).toFixed(0)} µs/review [${spread(runs.map((r) => r.cpuUs))}]; RSS ${rssMiB(gate.child.pid).toFixed(0)} MiB`);
      }
    }),
  );
}

/**
 * Cold start: process spawn to the first 200 from /readyz (trust, policies, keys loaded); idle RSS.
 * With sealing keys from files, and from Kubernetes Secrets as the Helm chart deploys the gate
 * (a stand-in API server in this process, bench/kube-api.mjs); each for the shipped bundle and for
 * tsc's unbundled output, the four started in turn so that they share the machine's moods.
 */
export async function runStartup({ quick }) {
  return withSetup(async ({ dir, config, sealingKey }) => {
    const kubeconfig = path.join(dir, 'kubeconfig');
    const api = await startKubeApi({ namespace: 'syncgate', secrets: [keySecretManifest(sealingKey, 'syncgate')], kubeconfigFile: kubeconfig });
    try {
      const kubeConfig = { ...config, sealing: { delivery: 'inline', kubernetes: { kubeconfig, namespace: 'syncgate' } } };
      const shipped = process.env.SYNCGATE_BENCH_CLI ? path.relative(ROOT, CLI) : 'bundle (as shipped)';
      const variants = [
        { label: `keys from files, ${shipped}`, config, cli: CLI },
        { label: 'keys from files, unbundled (tsc output)', config, cli: UNBUNDLED_CLI },
        { label: `keys from Kubernetes, ${shipped}`, config: kubeConfig, cli: CLI },
        { label: 'keys from Kubernetes, unbundled (tsc output)', config: kubeConfig, cli: UNBUNDLED_CLI },
      ].map((v) => ({ ...v, starts: [], rss: [] }));
      for (let i = 0; i < (quick ? 1 : 7); i++) {
        for (const v of variants) {
          await withGate(
            dir,
            v.config,
            async (gate) => {
              v.starts.push(gate.coldStartMs);
              await sleep(quick ? 300 : 1000);
              v.rss.push(rssMiB(gate.child.pid));
            },
            v.cli,
          );
        }
      }
      console.log(`cold start to /readyz (${variants[0].starts.length} starts each, in turn; spawn of node to the first 200, polled every 2 ms) and RSS ${quick ? 0.3 : 1} s after ready; median [range]  (targets ≤ 500 ms, ≤ 80 MiB)`);
      for (const v of variants) console.log(`  ${v.label.padEnd(46)} ${median(v.starts).toFixed(0).padStart(4)} ms [${spread(v.starts)}]   ${median(v.rss).toFixed(0)} MiB [${spread(v.rss)}]`);
    } finally {
      await api.close();
    }
  });
}

/**
 * Sequential decisions at 10 … 5,000 manifests: how the cost grows, for a first sight (the
 * document cache off, so every document is parsed and evaluated) and for a re-render (every
 * document seen before).
 */
export async function runGrowth({ quick }) {
  return withSetup(async ({ dir, config, sealingKey }) => {
    const apps = (quick ? [10, 100] : [10, 100, 1000, 5000]).map((n) => ({ n, ...requestBody(generateCompliantApplication(n, { publicKey: sealingKey, sealedValues: Math.min(10, n) })) }));
    console.log('growth: one decision at a time over HTTP, after 2 untimed ones; median (p90 in brackets)');
    for (const [label, limits] of [['first sight (limits.manifestCacheBytes: 0)', { manifestCacheBytes: 0 }], ['re-render (every document seen before)', {}]]) {
      console.log(`${label}:`);
      await withGate(dir, { ...config, limits }, async (gate) => {
        for (const { n, body, yamlBytes } of apps) {
          const times = [];
          const reps = n >= 5000 ? 5 : n >= 1000 ? 9 : 25;
          for (let i = 0; i < reps + 2; i++) {
            const t = performance.now();
            await decide(gate.url, body);
            if (i >= 2) times.push(performance.now() - t);
          }
          const m = median(times);
          console.log(`  ${String(n).padStart(5)} manifests (${(yamlBytes / 1024).toFixed(0).padStart(6)} KiB YAML): ${m.toFixed(1).padStart(8)} ms/decision [p90 ${quantile(times, 0.9).toFixed(1)}], ${((m * 1000) / n).toFixed(0).padStart(5)} µs/manifest, ${((m * 1000) / (yamlBytes / 1024)).toFixed(0).padStart(4)} µs/KiB`);
        }
      });
    }
  });
}
