import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** What both proxies share: the tunnels opened (`host:port`), and a stop that cuts them. */
abstract class TunnelProxy {
  readonly tunnels: string[] = [];
  protected readonly sockets = new Set<Duplex>();

  protected constructor(protected readonly server: Server | HttpServer) {}

  protected get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Connects `client` to `target` and pipes bytes both ways once `ready` has been written. */
  protected tunnel(client: Duplex, target: string, host: string, port: number, ready: Buffer | string, head?: Buffer): void {
    this.tunnels.push(target);
    this.sockets.add(client);
    const upstream = connect(port, host, () => {
      this.sockets.add(upstream);
      client.write(ready);
      if (head?.length) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  }

  protected listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * An HTTP CONNECT proxy on 127.0.0.1, as a kubeconfig's `proxy-url: http://…` names one: it pipes
 * bytes both ways, so TLS runs end to end inside the tunnel.
 */
export class ConnectProxy extends TunnelProxy {
  static async start(): Promise<ConnectProxy> {
    const proxy = new ConnectProxy(createHttpServer((_req, res) => res.writeHead(405).end()));
    proxy.server.on('connect', (req, client: Duplex, head: Buffer) => {
      const target = req.url ?? '';
      const [host, port] = target.split(':');
      proxy.tunnel(client, target, host!, Number(port), 'HTTP/1.1 200 Connection Established\r\n\r\n', head);
    });
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

/**
 * A SOCKS5 proxy on 127.0.0.1 (RFC 1928: no authentication, CONNECT to an IPv4 address or a
 * domain name), as a kubeconfig's `proxy-url: socks5://…` names one.
 */
export class Socks5Proxy extends TunnelProxy {
  static async start(): Promise<Socks5Proxy> {
    const proxy = new Socks5Proxy(createNetServer((client) => proxy.greet(client)));
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `socks5://127.0.0.1:${this.port}`;
  }

  private greet(client: Socket): void {
    this.sockets.add(client);
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    let greeted = false;
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!greeted) {
        // VER 5, NMETHODS, METHODS…: answer "no authentication".
        if (buffered.length < 2 || buffered.length < 2 + buffered[1]!) return;
        buffered = buffered.subarray(2 + buffered[1]!);
        greeted = true;
        client.write(Buffer.from([5, 0]));
      }
      // VER 5, CMD 1 (CONNECT), RSV, ATYP 1 (IPv4) or 3 (domain name), address, port.
      if (buffered.length < 5) return;
      const type = buffered[3]!;
      const addressEnd = type === 1 ? 8 : type === 3 ? 5 + buffered[4]! : -1;
      if (buffered[1] !== 1 || addressEnd < 0) return void client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
      if (buffered.length < addressEnd + 2) return;
      const host = type === 1 ? [...buffered.subarray(4, 8)].join('.') : buffered.subarray(5, addressEnd).toString('latin1');
      const port = buffered.readUInt16BE(addressEnd);
      client.off('data', onData);
      client.pause(); // until the tunnel's pipe reads on
      this.tunnel(client, `${host}:${port}`, host, port, Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]), buffered.subarray(addressEnd + 2));
    };
    client.on('data', onData);
  }
}
