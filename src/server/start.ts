import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditLog } from '../audit/log.js';
import type { Config } from '../config/schema.js';
import { asSyncgateError } from '../errors.js';
import { loadTrustMaterial } from '../gate/trust-material.js';
import type { GateDependencies, ObjectSignatureVerifier } from '../gate/types.js';
import type { Logger } from '../log.js';
import { PolicyStore, type ReloadOutcome } from '../policy/policy-set.js';
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
  let trustProblem: string | undefined = 'trust material is loading';
  let shuttingDown = false;
  const policyStore = new PolicyStore({ policies: config.policies.paths, exceptions: config.policies.exceptions });
  const notReady = () => {
    if (trustProblem) return trustProblem;
    if (!policyStore.current()) {
      const e = policyStore.lastError();
      return e ? `policies could not be loaded: ${e.code}: ${e.message}` : 'policies are loading';
    }
    return undefined;
  };

  const gate: GateDependencies = {
    verifier: () => verifier,
    policies: () => policyStore.current(),
    policyOptions: { modes: { defaultMode: config.policies.defaultMode, overrides: config.policies.modes }, bindings: config.policies.bindings },
    audit,
    limits: config.limits,
    observeStage: (stage, seconds) => metrics.stageSeconds.observe({ stage }, seconds),
  };
  const app = createApp({
    gate,
    metrics,
    logger,
    state: { notReady, shuttingDown: () => shuttingDown },
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

  const reportPolicies = (outcome: ReloadOutcome, initial: boolean) => {
    if (outcome.ok) {
      const { policies, exceptions, generation } = outcome.set;
      logger.info({ policies: policies.length, exceptions: exceptions.length, generation }, initial ? 'policies loaded' : 'policies reloaded');
      if (!initial) void audit.append({ type: 'config.reload', what: 'policies', ok: true, policies: policies.map((p) => p.name), exceptions: exceptions.length, generation }).catch(() => {});
    } else {
      const kept = outcome.kept ? `the previous set (generation ${outcome.kept.generation}) stays in force` : 'no policy set is in force: every sync is denied';
      logger.error({ code: outcome.error.code, err: outcome.error.message, location: outcome.error.location }, `policies could not be loaded; ${kept}`);
      void audit.append({ type: 'config.reload', what: 'policies', ok: false, error: outcome.error.toJSON(), keptGeneration: outcome.kept?.generation ?? null }).catch(() => {});
    }
  };

  const ready = (async () => {
    const policiesLoaded = policyStore.reload().then((outcome) => {
      reportPolicies(outcome, true);
      if (config.policies.watch) policyStore.watch((o) => reportPolicies(o, false));
      if (!outcome.ok) throw outcome.error;
    });
    try {
      verifier = await loadTrustMaterial(config.trust);
      trustProblem = undefined;
      logger.info({ keyrings: config.trust.keyrings.length, rules: config.trust.rules.length }, 'trust material loaded');
    } catch (err) {
      const e = asSyncgateError(err);
      trustProblem = `trust material could not be loaded: ${e.code}: ${e.message}`;
      logger.error({ code: e.code, err: e.message }, 'trust material could not be loaded; every sync is denied');
      await policiesLoaded.catch(() => {});
      throw e;
    }
    await policiesLoaded;
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
    policyStore.close();
    await audit.append({ type: 'gate.stop', pid: process.pid }).catch(() => {});
    await audit.close();
  };

  return { address, url, server, ready, close };
}
