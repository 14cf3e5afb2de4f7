import path from 'node:path';
import type { Command } from 'commander';
import { SyncgateError } from '../errors.js';
import { GitRepository } from '../git/repository.js';
import { renderSource } from './argocd-render.js';
import { EXIT_FAIL, EXIT_USAGE } from './exit-codes.js';
import { askGate } from './gate-client.js';

/** Where the plugin runs: Argo CD's build environment (ARGOCD_APP_*) plus our SYNCGATE_* settings. */
interface PluginEnv {
  revision: string;
  appName: string;
  project?: string;
  namespace?: string;
  repoUrl?: string;
}

function readEnv(env: NodeJS.ProcessEnv): PluginEnv {
  const revision = env.ARGOCD_APP_REVISION?.trim();
  if (!revision) throw new SyncgateError('NO_REVISION', 'ARGOCD_APP_REVISION is not set: this command runs as an Argo CD config management plugin');
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(revision)) {
    throw new SyncgateError('NO_REVISION', `ARGOCD_APP_REVISION must be a full commit id, got ${JSON.stringify(revision.slice(0, 80))}`);
  }
  const opt = (v: string | undefined) => (v && v.trim() !== '' ? v.trim() : undefined);
  const project = opt(env.ARGOCD_APP_PROJECT_NAME);
  const namespace = opt(env.ARGOCD_APP_NAMESPACE);
  const repoUrl = opt(env.ARGOCD_APP_SOURCE_REPO_URL);
  return {
    revision: revision.toLowerCase(),
    appName: opt(env.ARGOCD_APP_NAME) ?? 'app',
    ...(project ? { project } : {}),
    ...(namespace ? { namespace } : {}),
    ...(repoUrl ? { repoUrl } : {}),
  };
}

/** The repository holding `dir` (Argo CD hands the plugin the whole checkout, .git included). */
async function openCheckout(dir: string): Promise<GitRepository> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      return await GitRepository.open(current);
    } catch (err) {
      const parent = path.dirname(current);
      if (parent === current) {
        throw new SyncgateError('REPO_NOT_FOUND', `no git repository at or above ${dir}; keep .git in the plugin's tarball (do not exclude it)`, undefined, { cause: err });
      }
      current = parent;
    }
  }
}

export function registerArgocd(program: Command): void {
  const argocd = program.command('argocd').description('Argo CD integration');
  argocd
    .command('generate')
    .description('the ConfigManagementPlugin generate command: render, ask the gate, print the manifests only if allowed')
    .option('--dir <dir>', 'application source directory', '.')
    .option('--gate-url <url>', 'gate URL (env SYNCGATE_URL)', process.env.SYNCGATE_URL ?? 'http://127.0.0.1:8480')
    .option('--token-file <file>', 'bearer token for the gate (env SYNCGATE_TOKEN_FILE)', process.env.SYNCGATE_TOKEN_FILE)
    .option('--timeout-ms <ms>', 'how long rendering and the gate may take together (keep it below ARGOCD_EXEC_TIMEOUT)', process.env.SYNCGATE_TIMEOUT_MS ?? '30000')
    .action(async (opts: { dir: string; gateUrl: string; tokenFile?: string; timeoutMs: string }) => {
      // Nothing goes to stdout until the gate has allowed: an empty or partial stream could make
      // Argo CD prune the application's resources.
      try {
        const env = readEnv(process.env);
        const timeoutMs = Number(opts.timeoutMs);
        if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new SyncgateError('USAGE', `--timeout-ms must be a positive integer, not ${opts.timeoutMs}`);
        // One budget for rendering and the gate together: Argo CD kills the plugin at its own timeout.
        const deadline = performance.now() + timeoutMs;
        const repo = await openCheckout(opts.dir);
        let commit: Buffer;
        try {
          commit = (await repo.readObject(env.revision, 'commit')).raw;
        } finally {
          repo.close();
        }
        const rendered = await renderSource(opts.dir, { appName: env.appName, ...(env.namespace ? { namespace: env.namespace } : {}), timeoutMs });
        const left = Math.floor(deadline - performance.now());
        if (left <= 0) throw new SyncgateError('GATE_TIMEOUT', `rendering took all of --timeout-ms (${timeoutMs} ms); the gate was not asked`);
        const answer = await askGate(
          {
            revision: env.revision,
            commit: commit.toString('base64'),
            encoding: 'base64',
            manifests: rendered.yaml,
            ...(env.repoUrl ? { repository: env.repoUrl } : {}),
            application: {
              name: env.appName,
              ...(env.project ? { project: env.project } : {}),
              ...(env.namespace ? { destination: { namespace: env.namespace } } : {}),
            },
          },
          { url: opts.gateUrl, timeoutMs: left, ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}) },
        );
        if (answer.status !== 200 || answer.decision.allowed !== true) {
          const reasons = answer.decision.reasons ?? [];
          process.stderr.write(`syncgate denied revision ${env.revision} (HTTP ${answer.status}, decision ${answer.decision.decisionId ?? 'unknown'}):\n`);
          for (const r of reasons.slice(0, 20)) process.stderr.write(`  ${r.code}: ${r.message}\n`);
          if (reasons.length > 20) process.stderr.write(`  ... and ${reasons.length - 20} more\n`);
          process.exitCode = EXIT_FAIL;
          return;
        }
        process.stdout.write(rendered.yaml);
      } catch (err) {
        const e = err instanceof SyncgateError ? err : new SyncgateError('INTERNAL_ERROR', (err as Error).message);
        process.stderr.write(`syncgate: ${e.code}: ${e.message}\n`);
        process.exitCode = EXIT_USAGE;
      }
    });
}
