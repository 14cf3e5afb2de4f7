import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Server as HttpsServer } from 'node:https';
import { ConfigError } from '../errors.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA bundle client certificates must chain to (mutual TLS); unset: no client certificates. */
  clientCaFile?: string;
}

/** Reads the certificate chain and key (and the client CA); errors name the file, never its contents. */
export async function readTls(files: TlsFiles): Promise<{ cert: Buffer; key: Buffer; ca?: Buffer }> {
  const read = async (file: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new ConfigError('TLS_UNREADABLE', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file });
    }
  };
  return { cert: await read(files.certFile), key: await read(files.keyFile), ...(files.clientCaFile ? { ca: await read(files.clientCaFile) } : {}) };
}

/**
 * Swaps in a renewed certificate (cert-manager rewrites the mounted Secret) without a restart.
 * A renewal that does not load keeps the current certificate and is reported.
 */
export function watchTls(server: HttpsServer, files: TlsFiles, onReload: (err?: Error) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      readTls(files).then(
        (tls) => {
          try {
            server.setSecureContext(tls);
            onReload();
          } catch (err) {
            onReload(err as Error);
          }
        },
        (err: Error) => onReload(err),
      );
    }, 200);
  };
  const dirs = [...new Set([path.dirname(files.certFile), path.dirname(files.keyFile), ...(files.clientCaFile ? [path.dirname(files.clientCaFile)] : [])])];
  const watchers: FSWatcher[] = dirs.map((d) => watch(d, { persistent: false }, reload));
  for (const w of watchers) w.on('error', (err) => onReload(err));
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
