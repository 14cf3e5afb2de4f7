// A generated application that passes the shipped policy library (every enforce-mode rule), for
// the gate benchmarks: Deployments, StatefulSets, Jobs, CronJobs, Services, ConfigMaps, plus
// SealedSecrets sealed to a key made at bench time. Deterministic for a given count.
import { sealSecret } from '../dist/secrets/index.js';

const labels = (name) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/managed-by': 'argocd' });

function container(name, i) {
  return {
    name,
    image: `registry.k8s.io/shop/${name}:1.${i % 20}.${i % 7}`,
    ports: [{ containerPort: 8080, name: 'http' }],
    env: Array.from({ length: 12 }, (_, j) => ({ name: `SETTING_${j}`, value: `value-${i}-${j}-${'x'.repeat(24)}` })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 10 },
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
  };
}

function podSpec(name, i) {
  return {
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [container(name, i), container(`${name}-sidecar`, i + 1)],
    volumes: [{ name: 'config', configMap: { name: `${name}-config` } }],
  };
}

/** `count` manifests (about 3.3 KB of YAML each), `sealedValues` of them values in SealedSecrets of 5 keys. */
export function generateCompliantApplication(count, { publicKey, sealedValues = 10, namespace = 'shop' } = {}) {
  const out = [];
  const secrets = Math.ceil(sealedValues / 5);
  for (let s = 0; s < secrets && publicKey; s++) {
    const data = {};
    for (let k = 0; k < Math.min(5, sealedValues - s * 5); k++) data[`key-${k}`] = `plaintext-value-${s}-${k}-${'p'.repeat(24)}`;
    out.push(sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `sealed-${s}`, namespace }, type: 'Opaque', stringData: data }, publicKey, { scope: 'strict' }));
  }
  const kinds = ['Deployment', 'Service', 'ConfigMap', 'StatefulSet', 'Service', 'Job', 'CronJob', 'ConfigMap'];
  for (let i = 0; out.length < count; i++) {
    const kind = kinds[i % kinds.length];
    const name = `${kind.toLowerCase()}-${i}`;
    const metadata = { name, namespace, labels: labels(name), annotations: { 'syncgate.dev/owner': 'team-shop' } };
    const template = { metadata: { labels: labels(name) }, spec: podSpec(name, i) };
    switch (kind) {
      case 'Deployment':
      case 'StatefulSet':
        out.push({ apiVersion: 'apps/v1', kind, metadata, spec: { replicas: 2, selector: { matchLabels: { 'app.kubernetes.io/name': name } }, template } });
        break;
      case 'Job':
        out.push({ apiVersion: 'batch/v1', kind, metadata, spec: { backoffLimit: 2, template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } });
        break;
      case 'CronJob':
        out.push({ apiVersion: 'batch/v1', kind, metadata, spec: { schedule: '*/15 * * * *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'OnFailure' } } } } } });
        break;
      case 'Service':
        out.push({ apiVersion: 'v1', kind, metadata, spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ port: 80, targetPort: 8080, name: 'http' }] } });
        break;
      default:
        out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data: Object.fromEntries(Array.from({ length: 8 }, (_, j) => [`key-${j}.properties`, `setting.${j}=${'v'.repeat(100)}\n`])) });
    }
  }
  return out.slice(0, count);
}
