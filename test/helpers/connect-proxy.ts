import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * An HTTP CONNECT proxy on 127.0.0.1, as a kubeconfig's `proxy-url` names one: it records each
 * tunnel's target (`host:port`) and pipes bytes both ways, so TLS runs end to end inside.
 */
export class ConnectProxy {
  readonly tunnels: string[] = [];
  private readonly sockets = new Set<Duplex>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<ConnectProxy> {
    const server = createServer((_req, res) => res.writeHead(405).end());
    const proxy = new ConnectProxy(server);
    server.on('connect', (req, client: Duplex, head: Buffer) => {
      proxy.tunnels.push(req.url ?? '');
      proxy.sockets.add(client);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host!, () => {
        proxy.sockets.add(upstream);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
