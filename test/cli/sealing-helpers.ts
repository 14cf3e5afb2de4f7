import { spawn } from 'node:child_process';
import { constants, createCipheriv, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLI, REPO_ROOT, type CliResult } from './run-cli.js';

/** Runs the built CLI with `input` on stdin (the shared runCli closes stdin). */
export function runCliInput(args: string[], input: string | Buffer | undefined, options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** A tiny HTTP server on 127.0.0.1 for the gate endpoints the CLI calls. */
export async function startHttp(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

/** Bitnami's HybridEncrypt (pkg/crypto/crypto.go) from its documented layout, for migration tests. */
export function bitnamiSeal(publicKey: KeyObject, label: string, plaintext: string): string {
  const sessionKey = randomBytes(32);
  const rsaCt = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) }, sessionKey);
  const cipher = createCipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(rsaCt.length);
  return Buffer.concat([len, rsaCt, body]).toString('base64');
}

export function bitnamiSealedSecret(publicKey: KeyObject, values: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'bitnami.com/v1alpha1',
    kind: 'SealedSecret',
    metadata: { name: 'db', namespace: 'payments' },
    spec: { encryptedData: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, bitnamiSeal(publicKey, 'payments/db', v)])), template: { type: 'Opaque' } },
  };
}

/** Every form a plaintext could leak in. */
export function leakForms(plain: string): string[] {
  const b = Buffer.from(plain);
  return [plain, b.toString('base64'), b.toString('hex')];
}
