import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 in front of another local server (the fake API server) that can
 * hold every request for `delayMs` before forwarding it: an API server that answers, but only
 * after the client has given up. Streams both ways (watches keep working).
 */
export class SlowProxy {
  delayMs = 0;
  /** Every request as it reached the proxy (before any delay): `METHOD /path`. */
  readonly seen: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(upstream: string): Promise<SlowProxy> {
    const target = new URL(upstream);
    const holder: { proxy?: SlowProxy } = {};
    const server = createServer((req, res) => {
      holder.proxy?.seen.push(`${req.method ?? ''} ${(req.url ?? '').split('?')[0]}`);
      const forward = () => {
        const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        });
        up.on('error', () => res.destroy());
        res.on('close', () => up.destroy());
        req.pipe(up);
      };
      const delay = holder.proxy?.delayMs ?? 0;
      if (delay > 0) {
        req.pause();
        setTimeout(forward, delay);
      } else forward();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    holder.proxy = new SlowProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return holder.proxy;
  }

  /** A kubeconfig pointing at the proxy (same shape as FakeKube.kubeconfig). */
  kubeconfig(fakeKubeconfig: string, fakeUrl: string): string {
    return fakeKubeconfig.replace(fakeUrl, this.url);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
