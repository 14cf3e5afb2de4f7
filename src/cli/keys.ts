import type { Command } from 'commander';
import { InputError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { keySecretManifest, keySecretName } from '../kube/key-secrets.js';
import { generateSealingKey, writeKeyFiles } from '../secrets/index.js';
import { EXIT_OK } from './exit-codes.js';
import { formatDocuments } from './sealing-io.js';

interface GenerateOptions {
  out?: string;
  format: string;
  apply?: boolean;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  timeoutMs: string;
  output: string;
}

/**
 * Once the command is done, the process exits within a second even if something still holds it
 * open: client-node never stops an exec credential plugin that hangs (src/kube/transport.ts), and
 * such a plugin must not keep the command from returning after it has reported KUBE_TIMEOUT.
 * Unreferenced, so that a process with nothing left running exits at once, as usual.
 */
function exitEvenIfHeldOpen(): void {
  setTimeout(() => process.exit(), 1_000).unref();
}

/** `syncgate keys generate`: a new X25519 sealing key as files, a Secret manifest, or a Secret written through the API. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage sealing keys (docs/sealing.md)');
  keys
    .command('generate')
    .description('create a sealing key pair: files (--out DIR), a Kubernetes Secret manifest (--format k8s), or the Secret itself (--apply)')
    .option('--out <dir>', 'write sealing-<keyId>.key (mode 0600) and .pub into DIR')
    .option('--format <format>', 'files, or k8s to print the key Secret manifest (yaml; --output json for JSON)', 'files')
    .option('--apply', 'create the key Secret through the Kubernetes API (label syncgate.dev/sealing-key=active)')
    .option('--namespace <ns>', "the gate's namespace, where key Secrets live (default: the kubeconfig context's namespace with --apply)")
    .option('--kubeconfig <file>', 'kubeconfig for --apply (default: $KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context for --apply')
    .option('--timeout-ms <ms>', 'bound on each Kubernetes API request with --apply, credentials (an exec plugin) included', '10000')
    .option('--output <format>', 'text or json (the report; with --format k8s, the manifest)', 'text')
    .action(async (opts: GenerateOptions) => {
      if (opts.output !== 'text' && opts.output !== 'json') throw new InputError('USAGE', `--output must be text or json, not ${opts.output}`);
      if (opts.format !== 'files' && opts.format !== 'k8s') throw new InputError('USAGE', `--format must be files or k8s, not ${opts.format}`);
      if (opts.format === 'k8s' && (opts.out !== undefined || opts.apply)) throw new InputError('USAGE', '--format k8s prints the manifest; it cannot be combined with --out or --apply');
      if (opts.format === 'files' && opts.out === undefined && !opts.apply) throw new InputError('USAGE', 'give --out DIR, --format k8s or --apply');
      const requestTimeoutMs = Number(opts.timeoutMs);
      if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs <= 0) throw new InputError('USAGE', `--timeout-ms must be a positive integer, not ${opts.timeoutMs}`);

      const key = generateSealingKey();
      const report: Record<string, unknown> = { keyId: key.keyId, created: key.created?.toISOString() };

      if (opts.format === 'k8s') {
        process.stdout.write(formatDocuments([keySecretManifest(key, opts.namespace)], opts.output === 'json' ? 'json' : 'yaml'));
        process.stderr.write(`syncgate: key ${key.keyId}: the manifest holds the PRIVATE key; apply it, keep a backup, do not commit it\n`);
        process.exitCode = EXIT_OK;
        return;
      }
      // Everything that can fail on input is checked before anything is written.
      let client: KubeClient | undefined;
      let namespace: string | undefined;
      if (opts.apply) {
        // Loaded only here: @kubernetes/client-node is heavy, and only --apply needs it.
        const { KubeClient: Client, contextNamespace, loadKubeConfig } = await import('../kube/index.js');
        const kc = loadKubeConfig({ ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}), ...(opts.context !== undefined ? { context: opts.context } : {}) });
        namespace = opts.namespace ?? contextNamespace(kc);
        if (namespace === undefined) throw new InputError('USAGE', "--apply needs --namespace (the gate's namespace); the kubeconfig context sets none");
        client = new Client(kc, { requestTimeoutMs });
      }
      if (opts.out !== undefined) {
        try {
          Object.assign(report, await writeKeyFiles(key, opts.out));
        } catch (err) {
          throw new InputError('OUTPUT_UNWRITABLE', `${opts.out}: cannot write the key files (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file: opts.out });
        }
      }
      if (client && namespace !== undefined) {
        try {
          await client.createSecret(namespace, keySecretManifest(key, namespace));
        } finally {
          exitEvenIfHeldOpen();
        }
        report.secret = { namespace, name: keySecretName(key) };
      }
      if (opts.output === 'json') {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        process.stdout.write(`key id: ${key.keyId}\n`);
        if (report.privateKeyPath) process.stdout.write(`private key: ${String(report.privateKeyPath)}\npublic key: ${String(report.publicKeyPath)}\n`);
        if (report.secret) process.stdout.write(`created Secret ${namespace}/${keySecretName(key)} (label syncgate.dev/sealing-key=active)\n`);
      }
      process.exitCode = EXIT_OK;
    });
}
