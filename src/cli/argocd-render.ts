import { execFile } from 'node:child_process';
import { access, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { InputError, SyncgateError } from '../errors.js';

export type Renderer = 'plain' | 'kustomize' | 'helm';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;
const KUSTOMIZATION = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Which renderer a source directory needs: Kustomize, Helm, or plain manifests. */
export async function detectRenderer(dir: string): Promise<Renderer> {
  for (const k of KUSTOMIZATION) if (await exists(path.join(dir, k))) return 'kustomize';
  if (await exists(path.join(dir, 'Chart.yaml'))) return 'helm';
  return 'plain';
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new SyncgateError('RENDERER_MISSING', `${command} is needed to render this source but is not installed in the plugin container`));
      } else {
        reject(new SyncgateError('RENDER_FAILED', `${command} ${args[0] ?? ''} failed: ${String(stderr).trim().slice(0, 2000) || err.message}`));
      }
    });
  });
}

/** Plain YAML/JSON files under `dir`, recursively, in a stable order; hidden directories skipped. */
async function plainFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await plainFiles(full)));
    else if (e.isFile() && MANIFEST_FILE.test(e.name)) out.push(full);
  }
  return out;
}

async function renderPlain(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const file of await plainFiles(dir)) {
    const text = await readFile(file, 'utf8');
    // JSON files become one YAML document each (JSON is YAML); a JSON array stays one array document.
    parts.push(text.replace(/^---\s*\n/, '').trimEnd());
  }
  return parts.filter((p) => p.trim() !== '').join('\n---\n') + '\n';
}

export interface RenderOptions {
  appName: string;
  namespace?: string;
  timeoutMs: number;
}

/** Renders the application source in `dir` to a multi-document YAML stream. */
export async function renderSource(dir: string, options: RenderOptions): Promise<{ renderer: Renderer; yaml: string }> {
  const renderer = await detectRenderer(dir);
  let yaml: string;
  if (renderer === 'kustomize') {
    yaml = await run('kustomize', ['build', '.'], dir, options.timeoutMs);
  } else if (renderer === 'helm') {
    const args = ['template', options.appName || 'release', '.', ...(options.namespace ? ['--namespace', options.namespace] : [])];
    yaml = await run('helm', args, dir, options.timeoutMs);
  } else {
    yaml = await renderPlain(dir);
  }
  if (yaml.replace(/^---\s*$/gm, '').trim() === '') {
    // An empty set with auto-prune would delete every resource of the application.
    throw new InputError('NO_MANIFESTS', `rendering ${dir} (${renderer}) produced no manifests; refusing to hand an empty set to Argo CD`);
  }
  return { renderer, yaml };
}
