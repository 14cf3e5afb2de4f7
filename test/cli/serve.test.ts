import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../src/cli/serve.js';
import { REPO_ROOT, runCli, startServe, waitReady } from './run-cli.js';

describe('syncgate serve', () => {
  it('serves the example requests with the embedded defaults: one allowed, one denied', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-serve-'));
    const { child, url, stderr } = await startServe(['--listen', '127.0.0.1:0', '--audit-log', path.join(dir, 'audit.jsonl')]);
    try {
      expect(stderr()).toContain('DEVELOPMENT example keys');
      await waitReady(url);
      for (const [file, status, allowed] of [
        ['allowed-request.json', 200, true],
        ['denied-request.json', 403, false],
      ] as const) {
        const body = await readFile(path.join(REPO_ROOT, 'examples', file), 'utf8');
        const res = await fetch(`${url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(res.status).toBe(status);
        expect(((await res.json()) as { allowed: boolean }).allowed).toBe(allowed);
      }
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('hands the startup memory back once ready, and decides as before afterwards', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-compact-'));
    const { child, url, stderr } = await startServe(['--listen', '127.0.0.1:0', '--audit-log', path.join(dir, 'audit.jsonl'), '--log-level', 'debug']);
    try {
      await waitReady(url);
      const until = Date.now() + 10_000;
      while (!stderr().includes('startup memory released') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const line = stderr().split('\n').find((l) => l.includes('startup memory released'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 20, ms: expect.any(Number), rss: expect.any(Number) });
      const body = await readFile(path.join(REPO_ROOT, 'examples', 'allowed-request.json'), 'utf8');
      const res = await fetch(`${url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('finishes an in-flight decision on SIGTERM, then exits 0 and records the stop', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-sigterm-'));
    const audit = path.join(dir, 'audit.jsonl');
    const { child, url } = await startServe(['--listen', '127.0.0.1:0', '--audit-log', audit]);
    await waitReady(url);
    const { port } = new URL(url);
    const body = JSON.stringify({ revision: 'a'.repeat(40), commit: 'tree x\n', manifests: [] });

    // Send the headers and half the body, SIGTERM, then the rest: the answer must still come.
    const socket = net.connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let response = '';
    socket.on('data', (d) => (response += d.toString()));
    socket.write(`POST /v1/gate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
    socket.write(body.slice(0, 10));
    await new Promise((r) => setTimeout(r, 200));
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    socket.write(body.slice(10));
    await once(socket, 'close');
    const [code] = await exited;

    expect(response).toMatch(/^HTTP\/1\.1 403/);
    expect(code).toBe(0);
    const records = (await readFile(audit, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(records.map((r) => r.type)).toEqual(['gate.start', 'decision', 'gate.stop']);
  });

  it('exits 2 with the field path for an invalid configuration file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-badconfig-'));
    const file = path.join(dir, 'syncgate.yaml');
    await writeFile(file, 'listen: nowhere\n');
    const { code, stderr } = await runCli(['serve', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('CONFIG_INVALID');
    expect(stderr).toContain('listen');
  });
});

describe('syncgate serve: arguments', () => {
  it('plain --flag value pairs of its own are parsed without commander, as commander would', () => {
    expect(parseServeArgs([])).toEqual({});
    expect(parseServeArgs(['--config', 'c.yaml', '--listen', '0.0.0.0:8480', '--keyring', 'a.asc', '--keyring', 'b.asc', '--audit-log', 'a.jsonl', '--log-level', 'debug'])).toEqual({
      config: 'c.yaml',
      listen: '0.0.0.0:8480',
      keyring: ['a.asc', 'b.asc'],
      auditLog: 'a.jsonl',
      logLevel: 'debug',
    });
  });

  it('anything else is left to commander: help, --flag=value, unknown or repeated flags, missing or dash values, positionals', () => {
    for (const args of [['--help'], ['-h'], ['--config=c.yaml'], ['--verbose', 'x'], ['--config'], ['--config', '-'], ['--config', 'a', '--config', 'b'], ['extra'], ['--listen', '1.2.3.4:1', 'extra']]) {
      expect(parseServeArgs(args), args.join(' ')).toBeUndefined();
    }
  });

  it('through commander: serve --help prints the options and exits 0; an unknown option exits 2', async () => {
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--config <file>', '--listen <host:port>', '--keyring <file>', '--audit-log <file>', '--log-level <level>']) expect(help.stdout).toContain(flag);
    const bad = await runCli(['serve', '--bogus', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--bogus'");
  });
});
