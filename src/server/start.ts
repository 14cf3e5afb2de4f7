import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditLog } from '../audit/log.js';
import type { Config } from '../config/schema.js';
import { asSyncgateError } from '../errors.js';
import { loadTrustMaterial } from '../gate/trust-material.js';
import type { GateDependencies, ObjectSignatureVerifier } from '../gate/types.js';
import type { Logger } from '../log.js';
import { createApp } from './app.js';
import { loadTokens } from './auth.js';
import { GateMetrics } from './metrics.js';

export interface RunningGate {
  /** The address actually bound (port 0 in the config picks a free port). */
  address: { host: string; port: number };
  url: string;
  server: Server;
  /** Resolves once trust material is loaded (or rejects with why it could not be). */
  ready: Promise<void>;
  /** Stops accepting, finishes in-flight decisions, closes the audit log. */
  close: () => Promise<void>;
}

function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

export async function startGate(config: Config, logger: Logger): Promise<RunningGate> {
  const gateTokens = loadTokens(config.auth.gateTokens);
  const audit = await AuditLog.open(config.audit.path);
  const metrics = new GateMetrics();
  let verifier: ObjectSignatureVerifier | undefined;
  let notReady: string | undefined = 'trust material is loading';
  let shuttingDown = false;

  const gate: GateDependencies = {
    verifier: () => verifier,
    audit,
    limits: config.limits,
    observeStage: (stage, seconds) => metrics.stageSeconds.observe({ stage }, seconds),
  };
  const app = createApp({
    gate,
    metrics,
    logger,
    state: { notReady: () => notReady, shuttingDown: () => shuttingDown },
    bodyLimitBytes: config.limits.bodyBytes,
    gateTokens,
  });

  const { host, port } = splitListen(config.listen);
  const server = createServer(
    {
      requestTimeout: config.limits.requestTimeoutMs,
      headersTimeout: config.limits.headersTimeoutMs,
      keepAliveTimeout: 5_000,
      // How often slow clients are checked against the timeouts above (Node's default is 30 s).
      connectionsCheckingInterval: Math.min(1_000, config.limits.headersTimeoutMs),
    },
    app,
  );
  server.listen({ host, port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const url = `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;

  const ready = (async () => {
    try {
      verifier = await loadTrustMaterial(config.trust);
      notReady = undefined;
      logger.info({ keyrings: config.trust.keyrings.length, rules: config.trust.rules.length }, 'trust material loaded');
    } catch (err) {
      const e = asSyncgateError(err);
      notReady = `trust material could not be loaded: ${e.code}: ${e.message}`;
      logger.error({ code: e.code, err: e.message }, 'trust material could not be loaded; every sync is denied');
      throw e;
    }
  })();
  ready.catch(() => {});

  await audit.append({ type: 'gate.start', listen: url, auditLog: config.audit.path, pid: process.pid });

  const close = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        logger.warn('shutdown grace period over; closing remaining connections');
        server.closeAllConnections();
        resolve();
      }, config.limits.shutdownGraceMs);
    });
    await Promise.race([closed, grace]);
    clearTimeout(timer);
    await audit.append({ type: 'gate.stop', pid: process.pid }).catch(() => {});
    await audit.close();
  };

  return { address, url, server, ready, close };
}
