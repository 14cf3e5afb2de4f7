import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startGate } from '../../src/server/start.js';
import { selfSignedCert } from '../helpers/tls.js';

async function listening(port = 0): Promise<ReturnType<typeof createServer>> {
  const s = createServer();
  s.listen(port, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

describe('startGate', () => {
  it('does not stay up half-started: when the admission listener cannot bind, the main listener is closed again', async () => {
    const busy = await listening();
    const probe = await listening();
    const mainPort = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-start-'));
    const tls = await selfSignedCert();
    const config = parseConfig(
      {
        listen: `127.0.0.1:${mainPort}`,
        audit: { path: path.join(dir, 'audit.jsonl') },
        log: { level: 'silent' },
        admission: { listen: `127.0.0.1:${(busy.address() as AddressInfo).port}`, certFile: tls.certFile, keyFile: tls.keyFile },
      },
      'test',
      dir,
    );
    try {
      await expect(startGate(config, createLogger('silent'))).rejects.toThrow();
      // the main port is free again: nothing is left answering /v1/gate
      const again = await listening(mainPort);
      again.close();
    } finally {
      busy.close();
    }
  });
});
