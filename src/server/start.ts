import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { openAuditLog } from '../audit/from-config.js';
import type { Config } from '../config/schema.js';
import { createGateRuntime } from '../gate/runtime.js';
import type { Logger } from '../log.js';
import { createAdmissionApp } from './admission-app.js';
import { createApp } from './app.js';
import { loadTokens } from './auth.js';
import { AuthFailureRecorder } from './auth-failures.js';
import { closeGracefully, listenOn, serverOptions } from './listen.js';
import { GateMetrics } from './metrics.js';
import { createAuditRouter } from './routes/audit.js';
import { readTls, watchTls } from './tls.js';

// node:http is taken with getBuiltinModule, not an ESM import: an import reads every export of
// the module, and three of node:http's (WebSocket, CloseEvent, MessageEvent) are getters that load
// undici, with http2, readline and ~70 other internal modules the gate never uses (~1 MiB idle RSS).
const { createServer } = process.getBuiltinModule('node:http');

export interface RunningGate {
  /** The address actually bound (port 0 in the config picks a free port). */
  address: { host: string; port: number };
  url: string;
  server: Server;
  /** The HTTPS admission webhook listener, when configured. */
  admission?: { url: string; server: Server };
  /** Resolves once trust material and policies are loaded (or rejects with why they could not be). */
  ready: Promise<void>;
  /** Stops accepting, finishes in-flight decisions, closes the audit log. */
  close: () => Promise<void>;
}

export async function startGate(config: Config, logger: Logger): Promise<RunningGate> {
  const gateTokens = loadTokens(config.auth.gateTokens, 'auth.gateTokens');
  const tls = config.admission ? await readTls(config.admission) : undefined;
  // Optional HTTPS (and mutual TLS with clientCaFile) for the main listener; plain HTTP otherwise.
  const mainTls = config.tls ? await readTls(config.tls) : undefined;
  const audit = await openAuditLog(config.audit, { onWarning: (msg, err) => logger.warn({ err: (err as Error | undefined)?.message }, msg) });
  const metrics = new GateMetrics();
  const runtime = createGateRuntime(config, audit, logger, (stage, seconds) => metrics.stageSeconds.observe({ stage }, seconds));
  const authFailures = new AuthFailureRecorder(audit, logger);
  let shuttingDown = false;
  const state = { notReady: runtime.notReady, shuttingDown: () => shuttingDown };

  const servers: Server[] = [];
  let stopMainTlsWatch = () => {};
  let stopTlsWatch = () => {};
  let admission: RunningGate['admission'];
  let server: Server;
  let bound: { host: string; port: number; url: string };
  try {
    const auditRouter = createAuditRouter({ logFile: config.audit.path, adminTokens: loadTokens(config.auth.adminTokens, 'auth.adminTokens'), audit, logger, authFailures });
    const app = createApp({ gate: runtime.deps, metrics, logger, state, bodyLimitBytes: config.limits.bodyBytes, gateTokens, authFailures, routers: [auditRouter] });
    server = mainTls
      ? createHttpsServer({ ...serverOptions(config.limits), ...mainTls, minVersion: 'TLSv1.2', ...(mainTls.ca ? { requestCert: true, rejectUnauthorized: true } : {}) }, app)
      : createServer(serverOptions(config.limits), app);
    servers.push(server);
    bound = await listenOn(server, config.listen, mainTls ? 'https' : 'http');
    stopMainTlsWatch =
      config.tls && mainTls
        ? watchTls(server as HttpsServer, config.tls, (err) => {
            if (err) logger.error({ err: err.message }, 'TLS certificate could not be reloaded; the current one stays in use');
            else logger.info('TLS certificate reloaded');
          })
        : () => {};

    if (config.admission && tls) {
      const admissionApp = createAdmissionApp({ gate: runtime.deps, metrics, logger, state, bodyLimitBytes: config.limits.bodyBytes, timeoutMs: config.admission.timeoutMs });
      const httpsServer = createHttpsServer({ ...serverOptions(config.limits), ...tls, minVersion: 'TLSv1.2' }, admissionApp);
      servers.push(httpsServer);
      const a = await listenOn(httpsServer, config.admission.listen, 'https');
      admission = { url: a.url, server: httpsServer };
      stopTlsWatch = watchTls(httpsServer, config.admission, (err) => {
        if (err) logger.error({ err: err.message }, 'admission TLS certificate could not be reloaded; the current one stays in use');
        else logger.info('admission TLS certificate reloaded');
      });
    }

    await audit.append({ type: 'gate.start', listen: bound.url, admission: admission?.url ?? null, auditLog: config.audit.path, pid: process.pid });
  } catch (err) {
    // A gate that could not start in full (a port taken, the start record not written) must not
    // stay up half-started: close what did start, then fail.
    for (const s of servers) s.close(() => {});
    stopTlsWatch();
    stopMainTlsWatch();
    await runtime.close().catch(() => {});
    await audit.close().catch(() => {});
    throw err;
  }

  const close = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    await closeGracefully(servers, config.limits.shutdownGraceMs, () => logger.warn('shutdown grace period over; closing remaining connections'));
    stopTlsWatch();
    stopMainTlsWatch();
    await runtime.close();
    await authFailures.flush();
    await audit.append({ type: 'gate.stop', pid: process.pid }).catch(() => {});
    await audit.close();
  };

  return { address: { host: bound.host, port: bound.port }, url: bound.url, server, ...(admission ? { admission } : {}), ready: runtime.ready, close };
}
