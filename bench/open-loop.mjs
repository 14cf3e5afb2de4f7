// An open-loop load: request i is due at start + i/rate s whatever the answers do, and goes out on
// a free keep-alive connection (at most `connections`, plain TCP or TLS by the URL) or waits for
// one; its latency counts from when it was due, so a stall is never hidden (no coordinated
// omission). autocannon's overallRate is not this: each connection spends its per-second quota
// back to back at the top of every second, a burst of closed-loop traffic, and its latency
// correction assumes a 1 ms interval whatever the rate. Requests are written as raw HTTP/1.1
// bytes, to keep the generator's own CPU (it shares the machine with the gate) small.
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? NaN;

/**
 * @param {{ url: string, rate: number, connections: number, duration: number, body: () => string | Buffer | Array<string | Buffer> }} opts
 *   `body`: the next request's body, or its pieces in order
 * @returns {Promise<{ p50: number, p99: number, max: number, rps: number, other: number, lateP99: number }>}
 *   latencies in ms; `other`: answers that were not 200; `lateP99`: how late the generator itself sent (p99, ms)
 */
export async function openLoop({ url, body, connections, rate, duration }) {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  // The head and the body's pieces are written as they are (corked into one send), never copied
  // into one buffer: a 400 KiB copy per request is CPU the generator takes from the gate's cores.
  const writeRequest = (socket, payload) => {
    const parts = (Array.isArray(payload) ? payload : [payload]).map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)));
    const length = parts.reduce((n, p) => n + p.length, 0);
    socket.cork();
    socket.write(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`);
    for (const p of parts) socket.write(p);
    socket.uncork();
  };
  const free = [];
  const waiting = [];
  const latencies = [];
  const late = [];
  let other = 0;
  let failed;
  const send = (conn, due) => {
    conn.due = due;
    writeRequest(conn.socket, body());
  };
  const conns = await Promise.all(
    Array.from({ length: connections }, () =>
      new Promise((resolve, reject) => {
        const options = { host: u.hostname, port: Number(u.port) };
        const conn = { socket: undefined, due: 0, buf: Buffer.alloc(0) };
        conn.socket = secure ? tls.connect({ ...options, rejectUnauthorized: false }, () => resolve(conn)) : net.connect(options, () => resolve(conn));
        conn.socket.setNoDelay(true);
        conn.socket.on('error', (err) => {
          failed = err;
          reject(err);
        });
        conn.socket.on('close', () => (failed ??= new Error('the server closed a connection')));
        conn.socket.on('data', (chunk) => {
          conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk]);
          const end = conn.buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = conn.buf.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (conn.buf.length < end + 4 + length) return;
          if (!head.startsWith('HTTP/1.1 200 ')) other++;
          conn.buf = conn.buf.subarray(end + 4 + length);
          latencies.push(performance.now() - conn.due);
          const next = waiting.shift();
          if (next === undefined) free.push(conn);
          else send(conn, next);
        });
      }),
    ),
  );
  free.push(...conns);
  const total = Math.round(rate * duration);
  const start = performance.now() + 5;
  const dueAt = (i) => start + (i * 1000) / rate;
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (; sent < total && dueAt(sent) <= now; sent++) {
        late.push(now - dueAt(sent));
        // the longest-idle connection first: with the most recent first, connections at the
        // bottom sat idle past the gate's 5 s keep-alive timeout and were closed in longer runs
        const conn = free.shift();
        if (conn) send(conn, dueAt(sent));
        else waiting.push(dueAt(sent));
      }
      if (sent < total) setTimeout(tick, Math.min(1, dueAt(sent) - now));
      else resolve();
    };
    tick();
  });
  const deadline = performance.now() + 30_000;
  while (latencies.length < total && !failed && performance.now() < deadline) await sleep(5);
  if (latencies.length < total) failed ??= new Error(`${total - latencies.length} answers missing 30 s after the last request`);
  const seconds = (performance.now() - start) / 1000;
  const error = failed;
  for (const c of conns) c.socket.destroy();
  if (error) throw error;
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies), rps: latencies.length / seconds, other, lateP99: quantile(late, 0.99) };
}
