import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';

/** Node server options that bound slow clients (checked every second, not Node's default 30 s). */
export function serverOptions(limits: Config['limits']) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
}

/** Listens on HOST:PORT and resolves with the bound address (port 0 picks a free port). */
export async function listenOn(server: Server, listen: string, scheme: 'http' | 'https'): Promise<{ host: string; port: number; url: string }> {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '');
  server.listen({ host, port: Number(listen.slice(at + 1)) });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const bound = server.address() as AddressInfo;
  return { host: bound.address, port: bound.port, url: `${scheme}://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` };
}

/** Stops accepting, lets in-flight requests finish, and cuts what is left after `graceMs`. */
export async function closeGracefully(servers: Server[], graceMs: number, onGraceOver: () => void): Promise<void> {
  const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  for (const s of servers) s.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onGraceOver();
      for (const s of servers) s.closeAllConnections();
      resolve();
    }, graceMs);
  });
  await Promise.race([closed, grace]);
  clearTimeout(timer);
}
