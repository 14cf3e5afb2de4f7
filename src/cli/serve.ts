import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { compactHeap } from '../server/heap.js';
import { resumeOptimizingCompilers } from '../server/optimizer-pause.js';
import { startGate } from '../server/start.js';
import { youngGenerationAdvice } from '../server/young-generation.js';

/** After ready, the startup memory is handed back once the first probes are answered (heap.ts). */
const COMPACT_AFTER_READY_MS = 200;

export interface ServeOptions {
  config?: string;
  listen?: string;
  keyring?: string[];
  auditLog?: string;
  logLevel?: string;
}

/** serve's options, for commander (help, errors) and for parseServeArgs alike. */
const OPTIONS: ReadonlyArray<{ flag: string; value: string; key: keyof ServeOptions; description: string; repeatable?: boolean }> = [
  { flag: '--config', value: '<file>', key: 'config', description: 'configuration file (YAML); without it the embedded development defaults are used' },
  { flag: '--listen', value: '<host:port>', key: 'listen', description: 'address to listen on (default 127.0.0.1:8480)' },
  { flag: '--keyring', value: '<file>', key: 'keyring', description: 'OpenPGP key file to trust (repeatable; replaces the configured keyrings)', repeatable: true },
  { flag: '--audit-log', value: '<file>', key: 'auditLog', description: 'audit log path' },
  { flag: '--log-level', value: '<level>', key: 'logLevel', description: 'fatal|error|warn|info|debug|trace|silent' },
];

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerServe(program: Command): void {
  const command = program.command('serve').description('run the HTTP gate');
  for (const o of OPTIONS) {
    if (o.repeatable) command.option(`${o.flag} ${o.value}`, o.description, collect);
    else command.option(`${o.flag} ${o.value}`, o.description);
  }
  command.action((opts: ServeOptions) => runServe(opts));
}

/**
 * The arguments after `serve` as its options when they are nothing but `--flag value` pairs of
 * serve's own flags, each given once (a repeatable one any number of times): what a container's
 * command line holds. Anything else (help, `--flag=value`, an unknown flag, a missing value, a
 * value that starts with "-", a repeated flag) is undefined and goes through commander, which
 * parses or explains it; for what this accepts, commander would produce the same options.
 */
export function parseServeArgs(args: readonly string[]): ServeOptions | undefined {
  const opts: ServeOptions = {};
  for (let i = 0; i < args.length; i += 2) {
    const option = OPTIONS.find((o) => o.flag === args[i]);
    const value = args[i + 1];
    if (!option || value === undefined || value.startsWith('-')) return undefined;
    if (option.key === 'keyring') opts.keyring = [...(opts.keyring ?? []), value];
    else if (opts[option.key] !== undefined) return undefined;
    else opts[option.key] = value;
  }
  return opts;
}

/** Runs the gate until SIGTERM or SIGINT. Throws (a SyncgateError with its code) when it cannot start. */
export async function runServe(opts: ServeOptions): Promise<void> {
  const loaded = await loadConfig(opts.config, {
    ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
    ...(opts.keyring !== undefined ? { keyrings: opts.keyring } : {}),
    ...(opts.auditLog !== undefined ? { auditLog: opts.auditLog } : {}),
    ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
  });
  const logger = createLogger(loaded.config.log.level);
  const gate = await startGate(loaded.config, logger);
  if (loaded.usingEmbeddedDefaults) {
    process.stderr.write(
      [
        '',
        `syncgate is running at ${gate.url} with the DEVELOPMENT example keys (keys.example/, never for production).`,
        'Try it from another terminal:',
        `  curl -s ${gate.url}/v1/gate -H 'content-type: application/json' -d @examples/allowed-request.json   # 200, allowed`,
        `  curl -s ${gate.url}/v1/gate -H 'content-type: application/json' -d @examples/denied-request.json    # 403, denied`,
        '',
      ].join('\n'),
    );
  }
  logger.info({ url: gate.url, config: loaded.source, auditLog: loaded.config.audit.path }, 'syncgate listening');
  const advice = youngGenerationAdvice();
  if (advice) logger.warn(advice);
  gate.ready.then(
    () => {
      logger.info('syncgate ready');
      resumeOptimizingCompilers();
      setTimeout(() => {
        const started = performance.now();
        if (compactHeap()) logger.debug({ ms: Math.round(performance.now() - started), rss: process.memoryUsage.rss() }, 'startup memory released');
      }, COMPACT_AFTER_READY_MS).unref();
    },
    () => resumeOptimizingCompilers(),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight decisions');
    gate.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: (err as Error).message }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
