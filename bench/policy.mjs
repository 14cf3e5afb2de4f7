// Policy evaluation: the shipped library (policies/) on a generated 150-manifest application
// (mixed kinds, ~0.5 MB of YAML, some manifests violating some rules), evaluated by syncgate's
// kyverno-json engine and by the same checks hand-written in plain JavaScript, in one run.
// Figures are (resource x rule) evaluations per second; the two must agree on every status.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
// SYNCGATE_POLICY_DIST: another build of the engine to measure (e.g. an older commit's dist/policy)
const { evaluate, loadPolicies } = await import(process.env.SYNCGATE_POLICY_DIST ? path.resolve(process.env.SYNCGATE_POLICY_DIST, 'index.js') : '../dist/policy/index.js');

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// The application: deterministic (seeded PRNG), mixed kinds.

function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateApplication(count = 150, seed = 42) {
  const rnd = prng(seed);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const ns = 'shop';
  const labels = (name) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/managed-by': 'kustomize', team: pick(['web', 'data', 'ops']) });
  const env = (n) => Array.from({ length: n }, (_, i) => ({ name: `SETTING_${i}_${Math.floor(rnd() * 1e6)}`, value: `value-${Math.floor(rnd() * 1e9).toString(36)}-${'x'.repeat(20)}` }));
  const container = (name, bad) => {
    const c = {
      name,
      image: `registry.k8s.io/shop/${name}:${1 + Math.floor(rnd() * 9)}.${Math.floor(rnd() * 20)}.0`,
      ports: [{ containerPort: 8080, name: 'http' }],
      env: env(15),
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
      readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 10 },
      securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
      volumeMounts: [{ name: 'config', mountPath: '/etc/app' }, { name: 'tmp', mountPath: '/tmp' }],
    };
    if (bad === 'latest') c.image = `nginx:latest`;
    if (bad === 'untagged') c.image = `quay.io/shop/${name}`;
    if (bad === 'registry') c.image = `registry.example.invalid/${name}:1.0`;
    if (bad === 'limits') delete c.resources.limits;
    if (bad === 'privileged') c.securityContext.privileged = true;
    if (bad === 'caps') c.securityContext.capabilities = { add: ['SYS_ADMIN'] };
    if (bad === 'escalation') delete c.securityContext.allowPrivilegeEscalation;
    if (bad === 'hostport') c.ports.push({ containerPort: 9090, hostPort: 9090 });
    return c;
  };
  const podSpec = (name, bad) => {
    const spec = {
      serviceAccountName: name,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      initContainers: [container(`${name}-init`, bad === 'init-latest' ? 'latest' : undefined)],
      containers: [container(name, bad), container(`${name}-sidecar`)],
      volumes: [{ name: 'config', configMap: { name: `${name}-config` } }, { name: 'tmp', emptyDir: {} }],
    };
    if (bad === 'hostpath') spec.volumes.push({ name: 'host', hostPath: { path: '/var/run' } });
    if (bad === 'hostnetwork') spec.hostNetwork = true;
    if (bad === 'root') spec.securityContext.runAsUser = 0;
    return spec;
  };
  const bads = ['latest', 'untagged', 'registry', 'limits', 'privileged', 'caps', 'escalation', 'hostport', 'hostpath', 'hostnetwork', 'root', 'init-latest'];
  const badFor = (i) => (i % 7 === 3 ? bads[(i / 7) % bads.length | 0] : undefined);
  const template = (name, bad) => ({ metadata: { labels: labels(name), annotations: { 'prometheus.io/scrape': 'true' } }, spec: podSpec(name, bad) });
  const meta = (name, extra = {}) => ({ name, namespace: ns, labels: labels(name), annotations: { 'syncgate.dev/owner': 'team-shop', note: 'generated for the policy benchmark' }, ...extra });

  const plan = [
    ['Deployment', 30], ['StatefulSet', 8], ['DaemonSet', 5], ['Job', 6], ['CronJob', 6], ['ReplicaSet', 2], ['Pod', 3],
    ['Service', 35], ['ConfigMap', 20], ['SealedSecret', 10], ['Secret', 2], ['ServiceAccount', 8], ['RoleBinding', 5],
    ['ClusterRoleBinding', 1], ['Ingress', 4], ['HorizontalPodAutoscaler', 3], ['PodDisruptionBudget', 2],
  ];
  const out = [];
  let i = 0;
  for (const [kind, n] of plan) {
    for (let k = 0; k < n && out.length < count; k++, i++) {
      const name = `${kind.toLowerCase()}-${k}`;
      const bad = badFor(i);
      switch (kind) {
        case 'Deployment':
        case 'StatefulSet':
        case 'DaemonSet':
        case 'ReplicaSet':
          out.push({ apiVersion: 'apps/v1', kind, metadata: meta(name), spec: { replicas: 2, selector: { matchLabels: { 'app.kubernetes.io/name': name } }, template: template(name, bad) } });
          break;
        case 'Job':
          out.push({ apiVersion: 'batch/v1', kind, metadata: meta(name), spec: { backoffLimit: 2, template: template(name, bad) } });
          break;
        case 'CronJob':
          out.push({ apiVersion: 'batch/v1', kind, metadata: meta(name), spec: { schedule: '*/15 * * * *', jobTemplate: { spec: { template: template(name, bad) } } } });
          break;
        case 'Pod':
          out.push({ apiVersion: 'v1', kind, metadata: meta(name), spec: podSpec(name, bad) });
          break;
        case 'Service':
          out.push({ apiVersion: 'v1', kind, metadata: meta(name), spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ port: 80, targetPort: 8080, name: 'http' }] } });
          break;
        case 'ConfigMap':
          out.push({ apiVersion: 'v1', kind, metadata: meta(name), data: Object.fromEntries(Array.from({ length: 12 }, (_, j) => [`key-${j}.properties`, `setting.${j}=${'v'.repeat(120)}\n`])) });
          break;
        case 'SealedSecret':
          out.push({ apiVersion: 'bitnami.com/v1alpha1', kind, metadata: meta(name), spec: { encryptedData: { password: 'Ag'.padEnd(700, 'A') } } });
          break;
        case 'Secret':
          // one plaintext Secret (denied), one token Secret with no data (allowed)
          out.push(k === 0 ? { apiVersion: 'v1', kind, metadata: meta(name), data: { password: 'c2VjcmV0' } } : { apiVersion: 'v1', kind, type: 'kubernetes.io/service-account-token', metadata: meta(name) });
          break;
        case 'ServiceAccount':
          out.push({ apiVersion: 'v1', kind, metadata: meta(name) });
          break;
        case 'RoleBinding':
          out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: meta(name), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: k === 0 ? 'cluster-admin' : 'view' }, subjects: [{ kind: 'ServiceAccount', name, namespace: ns }] });
          break;
        case 'ClusterRoleBinding': {
          const m = meta(name);
          delete m.namespace;
          out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: m, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'shop' }] });
          break;
        }
        case 'Ingress':
          out.push({ apiVersion: 'networking.k8s.io/v1', kind, metadata: meta(name), spec: { rules: [{ host: `${name}.example.invalid`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'service-0', port: { number: 80 } } } }] } }] } });
          break;
        default: {
          const m = meta(name);
          if (k === 0) delete m.namespace; // one namespaced resource without a namespace
          out.push({ apiVersion: kind === 'PodDisruptionBudget' ? 'policy/v1' : 'autoscaling/v2', kind, metadata: m, spec: { minAvailable: 1 } });
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The reference: the library's checks written by hand (JMESPath truthiness where the policies
// rely on it). One pass computes the pod spec once per resource, as hand-written code would.

const truthy = (v) => !(v === null || v === undefined || v === false || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0));
const or = (...vs) => {
  for (const v of vs) if (truthy(v)) return v;
  return vs[vs.length - 1];
};
const WORKLOADS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);
const LABELLED = new Set([...WORKLOADS, 'Service']);
const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
const VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const PROFILE_OK = new Set(['RuntimeDefault', 'Localhost']);
const ALLOWED_REGISTRIES = new Set(['registry.k8s.io', 'ghcr.io', 'quay.io', 'docker.io', 'gcr.io', 'public.ecr.aws', 'mcr.microsoft.com']);
const REQUIRED_LABELS = ['app.kubernetes.io/name'];
const RECOMMENDED_LABELS = ['app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by'];
const CLUSTER_SCOPED = new Set(['APIService', 'CertificateSigningRequest', 'ClusterIssuer', 'ClusterPolicy', 'ClusterRole', 'ClusterRoleBinding', 'ClusterSecretStore', 'ClusterTrustBundle', 'ComponentStatus', 'CSIDriver', 'CSINode', 'CustomResourceDefinition', 'DeviceClass', 'FlowSchema', 'GatewayClass', 'IngressClass', 'IPAddress', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding', 'MutatingWebhookConfiguration', 'Namespace', 'Node', 'PersistentVolume', 'PriorityClass', 'PriorityLevelConfiguration', 'ResourceSlice', 'RuntimeClass', 'ServiceCIDR', 'StorageClass', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingPolicy', 'ValidatingWebhookConfiguration', 'VolumeAttachment', 'VolumeSnapshotClass']);

function registryOf(image) {
  const first = image.split('/')[0];
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

function every(list, fn) {
  let ok = true;
  for (const x of list) if (!fn(x)) ok = false;
  return ok;
}

const POD_RULES = [
  ['pss-baseline', 'host-process', (ps, cs) => !truthy(ps.securityContext?.windowsOptions?.hostProcess) && every(cs, (c) => !truthy(c.securityContext?.windowsOptions?.hostProcess))],
  ['pss-baseline', 'host-namespaces', (ps) => !truthy(ps.hostNetwork) && !truthy(ps.hostPID) && !truthy(ps.hostIPC)],
  ['pss-baseline', 'privileged-containers', (ps, cs) => every(cs, (c) => !truthy(c.securityContext?.privileged))],
  ['pss-baseline', 'capabilities', (ps, cs) => every(cs, (c) => (c.securityContext?.capabilities?.add ?? []).every((x) => BASELINE_CAPS.has(x)))],
  ['pss-baseline', 'host-path-volumes', (ps) => every(ps.volumes ?? [], (v) => v.hostPath == null)],
  ['pss-baseline', 'host-ports', (ps, cs) => every(cs, (c) => every(c.ports ?? [], (p) => (p.hostPort ?? 0) === 0))],
  ['pss-baseline', 'apparmor', (ps, cs, pm) =>
    PROFILE_OK.has(or(ps.securityContext?.appArmorProfile?.type, 'RuntimeDefault')) &&
    every(cs, (c) => PROFILE_OK.has(or(c.securityContext?.appArmorProfile?.type, 'RuntimeDefault'))) &&
    Object.entries(pm.annotations ?? {}).every(([k, v]) => !k.startsWith('container.apparmor.security.beta.kubernetes.io/') || v === 'runtime/default' || v.startsWith('localhost/'))],
  ['pss-baseline', 'selinux', (ps, cs) => [ps.securityContext, ...cs.map((c) => c.securityContext)].every((sc) => SELINUX_TYPES.has(or(sc?.seLinuxOptions?.type, '')) && or(sc?.seLinuxOptions?.user, '') === '' && or(sc?.seLinuxOptions?.role, '') === '')],
  ['pss-baseline', 'proc-mount', (ps, cs) => every(cs, (c) => or(c.securityContext?.procMount, 'Default') === 'Default')],
  ['pss-baseline', 'seccomp', (ps, cs) => PROFILE_OK.has(or(ps.securityContext?.seccompProfile?.type, 'RuntimeDefault')) && every(cs, (c) => PROFILE_OK.has(or(c.securityContext?.seccompProfile?.type, 'RuntimeDefault')))],
  ['pss-baseline', 'sysctls', (ps) => every(ps.securityContext?.sysctls ?? [], (s) => SAFE_SYSCTLS.has(s.name))],
  ['pss-restricted', 'volume-types', (ps) => every(ps.volumes ?? [], (v) => Object.keys(v).every((k) => k === 'name' || VOLUME_TYPES.has(k)))],
  ['pss-restricted', 'privilege-escalation', (ps, cs) => every(cs, (c) => c.securityContext != null && c.securityContext.allowPrivilegeEscalation === false)],
  ['pss-restricted', 'run-as-non-root', (ps, cs) => ps.securityContext?.runAsNonRoot !== false && every(cs, (c) => c.securityContext?.runAsNonRoot === true || (c.securityContext?.runAsNonRoot == null && ps.securityContext?.runAsNonRoot === true))],
  ['pss-restricted', 'run-as-user', (ps, cs) => ps.securityContext?.runAsUser !== 0 && every(cs, (c) => c.securityContext?.runAsUser !== 0)],
  ['pss-restricted', 'seccomp', (ps, cs) => {
    const pod = or(ps.securityContext?.seccompProfile?.type, '');
    return (pod === '' || PROFILE_OK.has(pod)) && every(cs, (c) => PROFILE_OK.has(or(c.securityContext?.seccompProfile?.type, pod)));
  }],
  ['pss-restricted', 'capabilities', (ps, cs) => every(cs, (c) => (c.securityContext?.capabilities?.drop ?? []).includes('ALL') && (c.securityContext?.capabilities?.add ?? []).every((x) => x === 'NET_BIND_SERVICE'))],
  ['allowed-registries', 'allowed-registry', (ps, cs) => every(cs, (c) => ALLOWED_REGISTRIES.has(registryOf(or(c.image, ''))))],
  ['disallow-latest-tag', 'require-image-tag', (ps, cs) => every(cs, (c) => { const i = or(c.image, ''); return i.includes('@') || i.split('/').at(-1).includes(':'); })],
  ['disallow-latest-tag', 'no-latest-tag', (ps, cs) => every(cs, (c) => { const i = or(c.image, ''); return i.includes('@') || !i.endsWith(':latest'); })],
  ['no-host-access', 'no-host-path', (ps) => every(ps.volumes ?? [], (v) => v.hostPath == null)],
  ['no-host-access', 'no-host-network', (ps) => !truthy(ps.hostNetwork)],
  ['no-host-access', 'no-privileged', (ps, cs) => every(cs, (c) => !truthy(c.securityContext?.privileged))],
  ['require-resources', 'requests-and-limits', (ps) => every([...(ps.containers ?? []), ...(ps.initContainers ?? [])], (c) => c.resources?.requests?.cpu != null && c.resources.requests.memory != null && c.resources.limits?.memory != null)],
];

function missingLabels(r, wanted) {
  const labels = r.metadata?.labels ?? {};
  return wanted.filter((l) => !truthy(labels[l]));
}

/** The checks by hand: one result per applicable (resource, rule), like the engine's. */
export function referenceEvaluate(resources) {
  const results = [];
  resources.forEach((r, index) => {
    const kind = r.kind;
    const push = (policy, rule, ok, message) => results.push({ policy, rule, resourceIndex: index, resource: r.metadata?.name, status: ok ? 'pass' : 'fail', ...(ok ? {} : { message }) });
    if (WORKLOADS.has(kind)) {
      const ps = or(r.spec?.template?.spec, r.spec?.jobTemplate?.spec?.template?.spec, r.spec, {});
      const pm = or(r.spec?.template?.metadata, r.spec?.jobTemplate?.spec?.template?.metadata, r.metadata, {});
      const cs = [...(ps.containers ?? []), ...(ps.initContainers ?? []), ...(ps.ephemeralContainers ?? [])];
      for (const [policy, rule, check] of POD_RULES) push(policy, rule, check(ps, cs, pm), `${policy}/${rule} failed`);
    }
    if (LABELLED.has(kind)) {
      const req = missingLabels(r, REQUIRED_LABELS);
      push('require-labels', 'required-labels', req.length === 0, `missing required labels: ${req.join(', ')}`);
      const rec = missingLabels(r, RECOMMENDED_LABELS);
      push('recommended-labels', 'recommended-labels', rec.length === 0, `missing recommended labels: ${rec.join(', ')}`);
    }
    if (r.apiVersion === 'v1' && kind === 'Secret' && (truthy(r.data) || truthy(r.stringData))) push('no-plaintext-secrets', 'secret-must-be-sealed', false, 'plaintext Secret');
    if (r.apiVersion === 'rbac.authorization.k8s.io/v1' && (kind === 'ClusterRoleBinding' || kind === 'RoleBinding')) {
      push('no-cluster-admin-bindings', 'no-cluster-admin', !(r.roleRef?.kind === 'ClusterRole' && r.roleRef?.name === 'cluster-admin'), 'binds cluster-admin');
    }
    if (typeof kind === 'string' && !CLUSTER_SCOPED.has(kind)) push('require-namespace', 'namespace-set', truthy(r.metadata?.namespace), 'no namespace');
  });
  return results;
}

// ---------------------------------------------------------------------------------------------

function keyed(results) {
  return results.map((r) => `${r.resourceIndex}\t${r.policy}\t${r.rule}\t${r.status}`).sort();
}

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Per-call time of `a` and `b`, measured in alternating chunks of at least `minMs` (so both see
 * the same machine load) as process CPU time; the median over `rounds` chunks each.
 */
function timeBoth(a, b, minMs, rounds) {
  const chunk = (fn) => {
    let n = 0;
    const start = cpuMs();
    let elapsed;
    do {
      fn();
      n++;
      elapsed = cpuMs() - start;
    } while (elapsed < minMs);
    return elapsed / n;
  };
  const ta = [];
  const tb = [];
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    const x = chunk(a);
    const y = chunk(b);
    ta.push(x);
    tb.push(y);
    ratios.push(x / y);
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const sorted = [...ratios].sort((x, y) => x - y);
  return [median(ta), median(tb), median(ratios), sorted[0], sorted[sorted.length - 1]];
}

export async function run({ quick }) {
  const policies = await loadPolicies([path.join(ROOT, 'policies')]);
  const rules = policies.reduce((n, p) => n + p.rules.length, 0);
  const app = generateApplication(150);
  const text = app.map((d) => yaml.dump(d, { noRefs: true, lineWidth: -1 })).join('---\n');
  const resources = yaml.loadAll(text);

  // both must say the same thing about every applicable (resource, rule)
  const engineResults = evaluate(policies, resources, { includeSkipped: false });
  const refResults = referenceEvaluate(resources);
  const a = keyed(engineResults);
  const b = keyed(refResults);
  const agree = a.length === b.length && a.every((x, i) => x === b[i]);
  if (!agree) {
    const diff = a.filter((x) => !b.includes(x)).slice(0, 5).concat(b.filter((x) => !a.includes(x)).slice(0, 5));
    throw new Error(`engine and reference disagree (${a.length} vs ${b.length} results), e.g.\n${diff.join('\n')}`);
  }
  const fails = engineResults.filter((r) => r.status === 'fail').length;

  const minMs = quick ? 100 : 300;
  for (let w = 0; w < (quick ? 30 : 60); w++) {
    evaluate(policies, resources, { includeSkipped: false });
    referenceEvaluate(resources);
  }
  const [engineMs, refMs, ratio, low, high] = timeBoth(() => evaluate(policies, resources, { includeSkipped: false }), () => referenceEvaluate(resources), minMs, quick ? 3 : 11);
  const pairs = resources.length * rules;
  const rate = (ms) => Math.round(pairs / (ms / 1000)).toLocaleString('en-US');

  console.log(`application: ${resources.length} manifests, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB YAML; library: ${policies.length} policies, ${rules} rules`);
  console.log(`results: ${engineResults.length} applicable (resource, rule) pairs, ${fails} fail; engine and reference agree on every status`);
  console.log(`timing: process CPU time in alternating chunks of >= ${minMs} ms; medians`);
  console.log(`  hand-written JS reference  ${refMs.toFixed(3)} ms per pass   ${rate(refMs)} resources x rules / s`);
  console.log(`  syncgate kyverno-json      ${engineMs.toFixed(3)} ms per pass   ${rate(engineMs)} resources x rules / s`);
  console.log(`  ratio                      engine takes ${ratio.toFixed(2)}x the reference's time (median of per-round ratios; range ${low.toFixed(2)}-${high.toFixed(2)}; target <= 3x)`);
}
