import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { compactHeap } from '../server/heap.js';
import { startGate } from '../server/start.js';

/** After ready, the startup memory is handed back once the first probes are answered (heap.ts). */
const COMPACT_AFTER_READY_MS = 200;

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP gate')
    .option('--config <file>', 'configuration file (YAML); without it the embedded development defaults are used')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8480)')
    .option('--keyring <file>', 'OpenPGP key file to trust (repeatable; replaces the configured keyrings)', collect)
    .option('--audit-log <file>', 'audit log path')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .action(async (opts: { config?: string; listen?: string; keyring?: string[]; auditLog?: string; logLevel?: string }) => {
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
      gate.ready.then(
        () => {
          logger.info('syncgate ready');
          setTimeout(() => {
            const started = performance.now();
            if (compactHeap()) logger.debug({ ms: Math.round(performance.now() - started), rss: process.memoryUsage.rss() }, 'startup memory released');
          }, COMPACT_AFTER_READY_MS).unref();
        },
        () => {},
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
    });
}
