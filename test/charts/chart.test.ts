import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { isTestMaterial, loadPolicies } from '../../src/policy/loader.js';
import {
  CHART,
  HELM,
  HELM_MISSING_MESSAGE,
  REPO_ROOT,
  TOPOLOGIES,
  type Container,
  type K8sObject,
  find,
  helm,
  only,
  podSpecs,
  render,
  renderError,
} from './helm.js';

if (!HELM) console.warn(HELM_MISSING_MESSAGE);

const NS = 'syncgate';
const DIGEST = /^[^@\s]+@sha256:[a-f0-9]{64}$/;
const tmp = mkdtempSync(path.join(tmpdir(), 'syncgate-chart-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectHardened(c: Container, owner: string, pod: { securityContext?: Record<string, unknown> }): void {
  const sc = c.securityContext ?? {};
  const where = `${owner} container ${c.name}`;
  expect(sc.runAsNonRoot, where).toBe(true);
  expect(sc.readOnlyRootFilesystem, where).toBe(true);
  expect(sc.allowPrivilegeEscalation, where).toBe(false);
  expect(sc.privileged ?? false, where).toBe(false);
  expect((sc.capabilities as { drop?: string[] } | undefined)?.drop, where).toEqual(['ALL']);
  expect((sc.capabilities as { add?: string[] } | undefined)?.add, where).toBeUndefined();
  const seccomp = (sc.seccompProfile ?? pod.securityContext?.seccompProfile) as { type?: string } | undefined;
  expect(seccomp?.type, where).toBe('RuntimeDefault');
  const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
  expect(typeof uid === 'number' && uid > 0, `${where}: runAsUser ${String(uid)}`).toBe(true);
  expect(c.resources?.requests, `${where}: resources.requests`).toBeTruthy();
  expect(c.resources?.limits?.memory, `${where}: memory limit`).toBeTruthy();
}

function configOf(objects: K8sObject[]): Record<string, unknown> {
  const cm = only(objects, 'ConfigMap', 'syncgate-config') as K8sObject & { data: Record<string, string> };
  return yaml.load(cm.data['config.yaml']!) as Record<string, unknown>;
}

function env(c: Container, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

function probeText(probe: Record<string, unknown> | undefined): string {
  return JSON.stringify(probe ?? {});
}

/** Every object the chart renders for a topology, plus the repo-server patch for the sidecar one. */
function renderAll(t: (typeof TOPOLOGIES)[number]): K8sObject[] {
  const objects = render({ valuesFiles: [t.valuesFile] });
  if (t.name === 'argocd-sidecar') {
    objects.push(...render({ valuesFiles: [t.valuesFile], set: ['argocd.repoServerPatch=strategicMerge'], showOnly: 'templates/argocd/repo-server-patch.yaml' }));
  }
  return objects;
}

describe.skipIf(!HELM)('chart: every topology', () => {
  for (const t of TOPOLOGIES) {
    describe(t.name, () => {
      const objects = HELM ? renderAll(t) : [];

      it('passes helm lint --strict', () => {
        const r = helm(['lint', '--strict', CHART, '--namespace', NS, '--values', path.join(CHART, t.valuesFile)]);
        expect(r.status, r.stdout + r.stderr).toBe(0);
      });

      it('hardens every container, with resources, and pulls every image by digest', () => {
        const pods = podSpecs(objects);
        expect(pods.length).toBeGreaterThanOrEqual(2); // the gate (Deployment or patch) and the key bootstrap Job
        for (const { owner, spec } of pods) {
          for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
            expectHardened(c, owner, spec);
            expect(c.image, `${owner} ${c.name}`).toMatch(DIGEST);
          }
        }
      });

      it('gives the gate liveness (/healthz), readiness (/readyz) and startup probes', () => {
        const gates = podSpecs(objects).flatMap(({ spec }) => spec.containers.filter((c) => c.name === 'syncgate'));
        expect(gates).toHaveLength(1);
        const gate = gates[0]!;
        expect(probeText(gate.livenessProbe)).toContain('/healthz');
        expect(probeText(gate.startupProbe)).toContain('/healthz');
        expect(probeText(gate.readinessProbe)).toContain('/readyz');
      });

      it('has no cluster-wide Secret access: no ClusterRole at all, Secret Roles only in the release and delivery namespaces', () => {
        expect(find(objects, 'ClusterRole')).toEqual([]);
        expect(find(objects, 'ClusterRoleBinding')).toEqual([]);
        const values = yaml.load(readFileSync(path.join(CHART, t.valuesFile), 'utf8')) as { delivery: { namespaces: string[] } };
        const allowed = new Set([NS, ...values.delivery.namespaces]);
        for (const role of find(objects, 'Role')) {
          const rules = (role as unknown as { rules: { resources: string[]; verbs: string[] }[] }).rules;
          if (!rules.some((r) => r.resources.includes('secrets') || r.resources.includes('*'))) continue;
          expect(allowed.has(role.metadata.namespace!), `${role.metadata.name} in ${role.metadata.namespace}`).toBe(true);
          for (const r of rules) expect(r.resources).not.toContain('*');
          if (role.metadata.namespace === NS) {
            // The gate reads its keys; only the bootstrap hook may create one.
            const verbs = new Set(rules.flatMap((r) => r.verbs));
            if (role.metadata.name.endsWith('-key-bootstrap')) expect([...verbs].sort()).toEqual(['create', 'list']);
            else expect([...verbs].sort()).toEqual(['get', 'list', 'watch']);
          }
        }
        for (const ns of values.delivery.namespaces) {
          expect(find(objects, 'Role').some((r) => r.metadata.namespace === ns), `delivery Role in ${ns}`).toBe(true);
          expect(find(objects, 'RoleBinding').some((r) => r.metadata.namespace === ns), `delivery RoleBinding in ${ns}`).toBe(true);
        }
      });

      it('labels every object with the standard labels', () => {
        for (const o of objects) {
          if (o.kind === 'Deployment' && o.metadata.name === 'argocd-repo-server') continue; // a patch, not an object
          const l = o.metadata.labels ?? {};
          expect(l['app.kubernetes.io/name'], `${o.kind}/${o.metadata.name}`).toBe('syncgate');
          expect(l['app.kubernetes.io/instance']).toBe('syncgate');
          expect(l['app.kubernetes.io/managed-by']).toBe('Helm');
          expect(l['helm.sh/chart']).toMatch(/^syncgate-\d+\.\d+\.\d+/);
        }
      });

      it('renders a config.yaml the gate accepts (src/config/schema.ts)', () => {
        const parsed = configSchema.safeParse(configOf(objects));
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
        expect(parsed.data?.audit.path).toBe('/var/lib/syncgate/audit.jsonl');
      });

      it('mounts exactly the files the config names, and the shipped policies load', async () => {
        const config = configOf(objects) as { policies: { paths: string[] }; trust: { keyrings: string[] } };
        const policies = only(objects, 'ConfigMap', 'syncgate-policies') as K8sObject & { data: Record<string, string> };
        const trust = only(objects, 'ConfigMap', 'syncgate-trust') as K8sObject & { data: Record<string, string> };
        expect(config.policies.paths.map((p) => path.basename(p)).sort()).toEqual(Object.keys(policies.data).sort());
        expect(config.trust.keyrings.map((p) => path.basename(p)).sort()).toEqual(Object.keys(trust.data).sort());
        // No test material: every key maps back to a policy file outside tests/ and *.test.yaml.
        for (const key of Object.keys(policies.data)) {
          expect(key.startsWith('builtin.')).toBe(true);
          expect(isTestMaterial(key.split('.').slice(-2).join('.'), false)).toBe(false);
          expect(key).not.toMatch(/(^|\.)tests\./);
        }
        const dir = mkdtempSync(path.join(tmp, 'policies-'));
        for (const [k, v] of Object.entries(policies.data)) writeFileSync(path.join(dir, k), v);
        const loaded = await loadPolicies(Object.keys(policies.data).map((k) => path.join(dir, k)));
        expect(loaded.length).toBeGreaterThan(0);
      });

      it('creates the sealing-key bootstrap Job as a Helm hook', () => {
        const job = only(objects, 'Job', 'syncgate-key-bootstrap');
        expect(job.metadata.namespace).toBe(NS);
        expect(job.metadata.annotations?.['helm.sh/hook']).toBe('post-install,post-upgrade');
        const cm = only(objects, 'ConfigMap', 'syncgate-key-bootstrap') as K8sObject & { data: Record<string, string> };
        expect(cm.data['bootstrap-keys.mjs']).toBe(readFileSync(path.join(CHART, 'files', 'bootstrap-keys.mjs'), 'utf8'));
      });
    });
  }
});

describe.skipIf(!HELM)('chart: standalone (Flux) topology', () => {
  const objects = HELM ? render({ valuesFiles: ['ci/standalone-values.yaml'] }) : [];

  it('registers a validating webhook with no side effects, v1 reviews, Fail, a short timeout and exempt namespaces', () => {
    const vwc = only(objects, 'ValidatingWebhookConfiguration') as K8sObject & { webhooks: Record<string, unknown>[] };
    expect(vwc.webhooks).toHaveLength(1);
    const w = vwc.webhooks[0] as {
      sideEffects: string;
      admissionReviewVersions: string[];
      failurePolicy: string;
      timeoutSeconds: number;
      namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
      clientConfig: { service: { name: string; namespace: string; path: string; port: number } };
      rules: { operations: string[]; resources: string[] }[];
    };
    expect(w.sideEffects).toBe('None');
    expect(w.admissionReviewVersions).toEqual(['v1']);
    expect(w.failurePolicy).toBe('Fail');
    expect(w.timeoutSeconds).toBeLessThanOrEqual(10);
    const exempt = w.namespaceSelector.matchExpressions.find((e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn');
    expect(exempt?.values).toEqual(expect.arrayContaining(['kube-system', NS, 'flux-system']));
    for (const r of w.rules) expect(r.operations).toEqual(['CREATE', 'UPDATE']);
    expect(w.rules.flatMap((r) => r.resources)).not.toContain('secrets');
    expect(w.rules.flatMap((r) => r.resources)).not.toContain('pods');

    // The service path reaches the gate's HTTPS admission listener.
    expect(w.clientConfig.service.path).toBe('/v1/admission');
    const svc = only(objects, 'Service', w.clientConfig.service.name) as K8sObject & { spec: { ports: { port: number; targetPort: string }[] } };
    const port = svc.spec.ports.find((p) => p.port === w.clientConfig.service.port);
    expect(port?.targetPort).toBe('webhook');
    const gate = podSpecs(objects)[0]!.spec.containers.find((c) => c.name === 'syncgate')!;
    const containerPort = gate.ports?.find((p) => p.name === 'webhook')?.containerPort;
    const admission = (configOf(objects) as { admission: { listen: string; timeoutMs: number; certFile: string } }).admission;
    expect(admission.listen).toBe(`0.0.0.0:${containerPort}`);
    expect(admission.timeoutMs).toBeLessThan(w.timeoutSeconds * 1000);
    // Probes go to the HTTPS listener (the HTTP gate stays on loopback).
    expect(gate.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'webhook', scheme: 'HTTPS' } });
    expect((configOf(objects) as { listen: string }).listen).toBe('127.0.0.1:8480');

    // cert-manager: the Certificate covers the Service name and its CA is injected into the webhook.
    const cert = only(objects, 'Certificate') as K8sObject & { spec: { dnsNames: string[]; secretName: string } };
    expect(cert.spec.dnsNames).toContain(`${svc.metadata.name}.${NS}.svc`);
    expect(vwc.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(`${NS}/${cert.metadata.name}`);
    const deploy = only(objects, 'Deployment') as K8sObject & { spec: { template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } } } };
    expect(deploy.spec.template.spec.volumes.find((v) => v.name === 'syncgate-tls')?.secret?.secretName).toBe(cert.spec.secretName);
    expect(admission.certFile).toBe('/etc/syncgate/tls/tls.crt');
  });

  it('gives the API credentials to the gate container only, as a short-lived projected token', () => {
    const { spec } = podSpecs(objects).find((p) => p.owner.startsWith('Deployment/'))!;
    expect(spec.automountServiceAccountToken).toBe(false);
    const kubeApi = spec.volumes?.find((v) => v.name === 'syncgate-kube-api') as unknown as { projected: { sources: { serviceAccountToken?: { expirationSeconds: number } }[] } };
    expect(kubeApi.projected.sources.find((s) => s.serviceAccountToken)?.serviceAccountToken?.expirationSeconds).toBeLessThanOrEqual(3600);
    const sa = only(objects, 'ServiceAccount', spec.serviceAccountName);
    expect((sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken).toBe(false);
  });

  it('has a PodDisruptionBudget and a NetworkPolicy that allows only the webhook in and the API server out', () => {
    only(objects, 'PodDisruptionBudget');
    const np = only(objects, 'NetworkPolicy') as K8sObject & {
      spec: { policyTypes: string[]; ingress: { ports: { port: string | number }[] }[]; egress: { ports: { port: number }[] }[] };
    };
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual(['webhook']);
    expect(np.spec.egress.flatMap((r) => r.ports.map((p) => p.port)).sort()).toEqual([443, 6443]);
  });

  it('installs the SealedSecret CRD and keeps it on uninstall', () => {
    const crd = only(objects, 'CustomResourceDefinition', 'sealedsecrets.syncgate.dev');
    expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
  });

  it('renders a ServiceMonitor only when asked, the API exists and the HTTP port is reachable', () => {
    expect(find(objects, 'ServiceMonitor')).toEqual([]);
    const set = ['metrics.serviceMonitor.enabled=true', 'gate.listen=0.0.0.0:8480', 'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring'];
    expect(find(render({ valuesFiles: ['ci/standalone-values.yaml'], set }), 'ServiceMonitor')).toEqual([]);
    const withApi = render({ valuesFiles: ['ci/standalone-values.yaml'], set, apiVersions: ['monitoring.coreos.com/v1'] });
    const sm = only(withApi, 'ServiceMonitor') as K8sObject & { spec: { endpoints: { port: string; path: string }[] } };
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    const svc = only(withApi, 'Service') as K8sObject & { spec: { ports: { name: string }[] } };
    expect(svc.spec.ports.map((p) => p.name)).toContain('http');
    expect(renderError({ valuesFiles: ['ci/standalone-values.yaml'], set: ['metrics.serviceMonitor.enabled=true'] })).toContain('gate.listen 0.0.0.0');
  });

  it('takes a provided TLS Secret with its CA bundle instead of cert-manager', () => {
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
    const objs = render({ valuesFiles: ['ci/standalone-values.yaml'], set: ['webhook.tls.certManager.enabled=false', 'webhook.tls.secretName=my-tls', `webhook.tls.caBundle=${ca}`] });
    expect(find(objs, 'Certificate')).toEqual([]);
    const vwc = only(objs, 'ValidatingWebhookConfiguration') as K8sObject & { webhooks: { clientConfig: { caBundle?: string } }[] };
    expect(vwc.webhooks[0]!.clientConfig.caBundle).toBe(ca);
  });
});

describe.skipIf(!HELM)('chart: Argo CD sidecar topology', () => {
  const values = ['ci/argocd-sidecar-values.yaml'];
  const objects = HELM ? render({ valuesFiles: values }) : [];
  const patch = HELM ? only(render({ valuesFiles: values, set: ['argocd.repoServerPatch=strategicMerge'], showOnly: 'templates/argocd/repo-server-patch.yaml' }), 'Deployment') : undefined;

  it('renders no workload of its own: the ConfigMaps go to Argo CD\'s namespace, RBAC binds the repo-server ServiceAccount', () => {
    expect(find(objects, 'Deployment')).toEqual([]);
    expect(find(objects, 'Service')).toEqual([]);
    expect(find(objects, 'ValidatingWebhookConfiguration')).toEqual([]);
    for (const name of ['syncgate-config', 'syncgate-policies', 'syncgate-trust', 'syncgate-argocd-plugin']) {
      expect(only(objects, 'ConfigMap', name).metadata.namespace).toBe('argocd');
    }
    const keys = only(objects, 'RoleBinding', 'syncgate-sealing-keys') as K8sObject & { subjects: { kind: string; name: string; namespace: string }[] };
    expect(keys.metadata.namespace).toBe(NS);
    expect(keys.subjects).toEqual([{ kind: 'ServiceAccount', name: 'argocd-repo-server', namespace: 'argocd' }]);
    // The gate's own namespace (keys) is the release namespace, not Argo CD's.
    const gate = (patch as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec.containers.find((c) => c.name === 'syncgate')!;
    expect(env(gate, 'POD_NAMESPACE')).toBe(NS);
  });

  it('adds a gate on loopback and a plugin container that runs as 999 with its own /tmp', () => {
    const spec = (patch as unknown as { spec: { template: { spec: PodSpecLike } } }).spec.template.spec;
    expect(patch!.metadata).toMatchObject({ name: 'argocd-repo-server', namespace: 'argocd' });
    const gate = spec.containers.find((c) => c.name === 'syncgate')!;
    const cmp = spec.containers.find((c) => c.name === 'syncgate-cmp')!;
    expect(gate.ports).toBeUndefined(); // 127.0.0.1 only: nothing to expose
    expect(probeText(gate.readinessProbe)).toContain('http://127.0.0.1:8480/readyz');
    expect(cmp.command).toEqual(['/var/run/argocd/argocd-cmp-server']);
    expect(cmp.securityContext?.runAsUser).toBe(999);
    expect(env(cmp, 'SYNCGATE_URL')).toBe('http://127.0.0.1:8480');
    const mounts = Object.fromEntries((cmp.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    expect(mounts['/var/run/argocd']?.name).toBe('var-files');
    expect(mounts['/home/argocd/cmp-server/plugins']?.name).toBe('plugins');
    expect(mounts['/home/argocd/cmp-server/config/plugin.yaml']).toMatchObject({ name: 'syncgate-plugin', subPath: 'plugin.yaml' });
    const cmpTmp = mounts['/tmp']!.name;
    expect(spec.volumes.find((v) => v.name === cmpTmp)).toMatchObject({ emptyDir: {} });
    expect(gate.volumeMounts?.find((m) => m.mountPath === '/tmp')?.name).not.toBe(cmpTmp);
    // Only the gate has API credentials.
    expect(gate.volumeMounts?.some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')).toBe(true);
    expect(cmp.volumeMounts?.some((m) => m.mountPath.startsWith('/var/run/secrets'))).toBe(false);
    // Every volume the containers mount is either added by the patch or Argo CD's own (var-files, plugins).
    const added = new Set(spec.volumes.map((v) => v.name));
    for (const c of spec.containers) for (const m of c.volumeMounts ?? []) expect(added.has(m.name) || ['var-files', 'plugins'].includes(m.name), m.name).toBe(true);
    // The plugin ConfigMap the patch mounts is the one the chart creates in Argo CD's namespace.
    const pluginVolume = spec.volumes.find((v) => v.name === 'syncgate-plugin') as unknown as { configMap: { name: string } };
    expect(only(objects, 'ConfigMap', pluginVolume.configMap.name).metadata.namespace).toBe('argocd');
  });

  it('renders the same containers as Argo CD Helm chart values', () => {
    const text = render({ valuesFiles: values, set: ['argocd.repoServerPatch=argoCdChartValues'], showOnly: 'templates/argocd/repo-server-patch.yaml' });
    const doc = text[0] as unknown as { repoServer: { extraContainers: Container[]; volumes: unknown[] } };
    const spec = (patch as unknown as { spec: { template: { spec: PodSpecLike } } }).spec.template.spec;
    expect(doc.repoServer.extraContainers).toEqual(spec.containers);
    expect(doc.repoServer.volumes).toEqual(spec.volumes);
  });

  it('ships a plugin.yaml (ConfigManagementPlugin, no discover) that matches deploy/argocd/plugin.yaml', () => {
    const cm = only(objects, 'ConfigMap', 'syncgate-argocd-plugin') as K8sObject & { data: Record<string, string> };
    const plugin = yaml.load(cm.data['plugin.yaml']!) as { apiVersion: string; kind: string; metadata: { name: string }; spec: { generate: { command: string[] }; discover?: unknown } };
    expect(plugin).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'ConfigManagementPlugin', metadata: { name: 'syncgate' } });
    // the same script the image's ENTRYPOINT runs
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'))![1]!) as string[];
    expect(plugin.spec.generate.command).toEqual(['node', entrypoint.find((a) => a.endsWith('.js')), 'argocd', 'generate']);
    expect(plugin.spec.discover).toBeUndefined();
    expect(yaml.load(readFileSync(path.join(REPO_ROOT, 'deploy', 'argocd', 'plugin.yaml'), 'utf8'))).toEqual(plugin);
  });

  it('deploy/argocd/repo-server-patch.yaml is the chart\'s rendering for default values (checksum aside)', () => {
    const rendered = only(render({ set: ['topology=argocd-sidecar', 'argocd.repoServerPatch=strategicMerge'], showOnly: 'templates/argocd/repo-server-patch.yaml' }), 'Deployment');
    const shipped = yaml.load(readFileSync(path.join(REPO_ROOT, 'deploy', 'argocd', 'repo-server-patch.yaml'), 'utf8')) as K8sObject;
    const strip = (o: K8sObject) => {
      const c = structuredClone(o) as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
      delete c.spec.template.metadata.annotations['checksum/syncgate-config'];
      return c;
    };
    expect(strip(shipped)).toEqual(strip(rendered));
  });

  it('refuses to be installed into Argo CD\'s own namespace', () => {
    expect(renderError({ valuesFiles: values, namespace: 'argocd' })).toContain('namespace of its own');
  });
});

interface PodSpecLike {
  containers: Container[];
  volumes: ({ name: string } & Record<string, unknown>)[];
}

describe.skipIf(!HELM)('chart: invalid values are refused with a clear message', () => {
  const standalone = ['ci/standalone-values.yaml'];
  it.each([
    ['the standalone topology without a certificate', [], ['webhook.tls.certManager.enabled=false'], 'webhook.tls.certManager.enabled=true, or webhook.tls.secretName'],
    ['a provided Secret without a CA bundle', standalone, ['webhook.tls.certManager.enabled=false', 'webhook.tls.secretName=x'], 'needs webhook.tls.caBundle'],
    ['a webhook timeout over 10 s', standalone, ['webhook.timeoutSeconds=30'], 'timeoutSeconds'],
    ['a tag where a digest belongs', standalone, ['image.digest=latest'], 'image.digest'],
    ['an unknown value', standalone, ['imageTag=1.0'], 'imageTag'],
    ['an unknown topology', standalone, ['topology=sidecar'], 'topology'],
    ['a gate listening on another address', standalone, ['gate.listen=10.0.0.1:8480'], 'gate.listen'],
    ['the release namespace as a delivery namespace', standalone, ['delivery.namespaces={syncgate}'], 'must not include the release namespace'],
  ])('%s', (_what, files, set, message) => {
    expect(renderError({ valuesFiles: files as string[], set: set as string[] })).toContain(message);
  });

  it('falls back to the tag (appVersion) only when no digest is given', () => {
    const objs = render({ valuesFiles: standalone, set: ['image.digest='] });
    const gate = podSpecs(objs).find((p) => p.owner.startsWith('Deployment/'))!.spec.containers[0]!;
    const chart = yaml.load(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    expect(gate.image).toBe(`registry.example.invalid/syncgate:${chart.appVersion}`);
  });
});

describe.skipIf(!HELM)('chart: values.schema.json documents every value in values.yaml', () => {
  it('has a schema entry with a description for every leaf of values.yaml', () => {
    const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as SchemaNode;
    const values = yaml.load(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (v: unknown, s: SchemaNode | undefined, at: string) => {
      if (!s) return void missing.push(at);
      if (!s.description && !at.includes('.resources.') && !at.includes('.rules[')) missing.push(`${at} (no description)`);
      if (v && typeof v === 'object' && !Array.isArray(v) && s.properties) {
        for (const [k, child] of Object.entries(v)) walk(child, s.properties[k], `${at}.${k}`);
      }
    };
    for (const [k, v] of Object.entries(values)) walk(v, schema.properties?.[k], k);
    expect(missing).toEqual([]);
  });
});

interface SchemaNode {
  description?: string;
  properties?: Record<string, SchemaNode>;
}
