import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyBufferPool } from '../../src/server/body-pool.js';
import { readPooledBody, type PooledBody } from '../../src/server/read-body.js';

const LIMIT = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('readPooledBody over HTTP on 127.0.0.1', () => {
  const pool = new BodyBufferPool(8 * 1024 * 1024);
  const errors: string[] = [];
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    const app = express();
    app.post('/echo', readPooledBody(pool, LIMIT), async (req, res) => {
      const body = req.body as Buffer;
      const answer = { length: body.length, sha256: sha(body) };
      // hold the buffer a while, as a decision does, so that concurrent requests overlap
      await new Promise((r) => setTimeout(r, Number(req.query.holdMs ?? 0)));
      const again = sha(body); // nothing wrote into it meanwhile
      (res.locals as { pooledBody?: PooledBody }).pooledBody?.release();
      res.json({ ...answer, unchanged: again === answer.sha256 });
    });
    app.use((err: { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(String(err.type));
      res.status(err.status ?? 500).json({ type: err.type });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const post = async (body: Buffer, headers: Record<string, string> = {}, holdMs = 0) => {
    const res = await fetch(`http://127.0.0.1:${port}/echo?holdMs=${holdMs}`, { method: 'POST', body, headers });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('hands on exactly the bytes sent, request after request, reusing one buffer', async () => {
    for (const size of [1, 1000, 70_000, 409 * 1024, 5, 300_000]) {
      const body = randomBytes(size);
      expect(await post(body)).toEqual({ status: 200, json: { length: size, sha256: sha(body), unchanged: true } });
    }
    // 64 KiB, 128 KiB and 448 KiB buffers were made; the 5-byte and 300,000-byte bodies reused two of them
    expect(pool.stats()).toEqual({ buffers: 3, bytes: (64 + 128 + 448) * 1024 });
  });

  it('gives concurrent requests their own buffers', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => randomBytes(50_000 + i * 7_000));
    const answers = await Promise.all(bodies.map((b) => post(b, {}, 30)));
    answers.forEach((a, i) => expect(a).toEqual({ status: 200, json: { length: bodies[i]!.length, sha256: sha(bodies[i]!), unchanged: true } }));
  });

  it('reads a chunked body of no declared length, growing its buffer', async () => {
    const body = randomBytes(300 * 1024);
    const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, agent: false, method: 'POST', path: '/echo' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      });
      req.on('error', reject);
      for (let at = 0; at < body.length; at += 10_000) req.write(body.subarray(at, at + 10_000));
      req.end();
    });
    expect(answer).toEqual({ length: body.length, sha256: sha(body), unchanged: true });
  });

  it('answers 413 for a declared length over the limit, and for a chunked body that grows past it', async () => {
    expect(await post(Buffer.alloc(LIMIT + 1))).toEqual({ status: 413, json: { type: 'entity.too.large' } });
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, agent: false, method: 'POST', path: '/echo' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(64 * 1024));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('inflates a gzip body (through express.raw)', async () => {
    const body = Buffer.from('{"manifests":"kind: ConfigMap"}'.repeat(100));
    expect(await post(gzipSync(body), { 'content-encoding': 'gzip' })).toEqual({ status: 200, json: { length: body.length, sha256: sha(body), unchanged: true } });
  });

  it('hands on an empty body when none is sent', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST' });
    expect(await res.json()).toEqual({ length: 0, sha256: sha(Buffer.alloc(0)), unchanged: true });
  });

  it('reports a body cut off by the client as request.aborted', async () => {
    const before = errors.length;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, agent: false, method: 'POST', path: '/echo', headers: { 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(10_000), () => setTimeout(() => req.destroy(), 50));
    });
    for (let i = 0; i < 50 && errors.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(errors.slice(before)).toEqual(['request.aborted']);
  });
});

describe('what pooled buffers rely on', () => {
  it('WebCrypto digest takes its copy of the bytes when called (app.ts hashes a body whose buffer may go back to the pool first)', async () => {
    const { subtle } = await import('node:crypto');
    const buffer = randomBytes(400 * 1024);
    const expected = sha(buffer);
    const pending = subtle.digest('SHA-256', buffer);
    buffer.fill(0);
    expect(Buffer.from(await pending).toString('hex')).toBe(expected);
  });
});
