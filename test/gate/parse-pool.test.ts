import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseManifests } from '../../src/gate/manifests.js';
import { ParsePool } from '../../src/gate/parse-pool.js';

// The worker runs the built code (npm test builds first): dist/gate/parse-worker.js.
const WORKER = new URL('../../dist/gate/parse-worker.js', import.meta.url);
const limits = { manifests: 1000, manifestNodes: 1_000_000, manifestDepth: 32 };

function bigStream(count: number, extra = ''): string {
  const docs = Array.from({ length: count }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  a: "${'x'.repeat(400)}"\n  n: 12\n  f: .inf\n  b: true\n`);
  return docs.join('---\n') + extra;
}

describe('ParsePool', () => {
  it('is not created without a size or without the compiled worker', () => {
    expect(ParsePool.create(0, WORKER)).toBeUndefined();
    expect(ParsePool.create(1, new URL('file:///nonexistent/parse-worker.js'))).toBeUndefined();
  });

  it('gives the same manifests as parseManifests for a large stream (numbers, .inf, booleans kept)', async () => {
    const pool = ParsePool.create(1, WORKER)!;
    try {
      const text = bigStream(200);
      expect(await pool.parse(text, limits)).toEqual(parseManifests(text, limits));
      // Small input and JSON arrays are parsed inline.
      expect(pool.parse([{ apiVersion: 'v1', kind: 'Pod' }], limits)).toEqual([{ index: 0, object: { apiVersion: 'v1', kind: 'Pod' } }]);
    } finally {
      await pool.close();
    }
  });

  it('rejects with the same coded InputError and location as parseManifests', async () => {
    const pool = ParsePool.create(1, WORKER)!;
    try {
      const bad = bigStream(100, '---\napiVersion: v1\nkind: [unclosed\n');
      let inline: unknown;
      try {
        parseManifests(bad, limits);
      } catch (err) {
        inline = err;
      }
      const err = await Promise.resolve(pool.parse(bad, limits)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).toJSON()).toEqual((inline as InputError).toJSON());
      const tooMany = await Promise.resolve(pool.parse(bigStream(200), { ...limits, manifests: 10 })).catch((e: unknown) => e);
      expect(tooMany).toMatchObject({ code: 'MANIFEST_TOO_MANY' });
    } finally {
      await pool.close();
    }
  });

  it('parses on the caller thread while the worker is busy', async () => {
    const pool = ParsePool.create(1, WORKER)!;
    try {
      const text = bigStream(300);
      const first = pool.parse(text, limits);
      const second = pool.parse(text, limits);
      expect(first).toBeInstanceOf(Promise);
      expect(Array.isArray(second)).toBe(true);
      expect(await first).toEqual(second);
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies fails its job closed (a coded error), and the next job gets a new worker', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'syncgate-parse-pool-'));
    const dying = path.join(dir, 'dying-worker.mjs');
    writeFileSync(dying, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\n");
    const pool = ParsePool.create(1, pathToFileURL(dying))!;
    try {
      const err = await Promise.resolve(pool.parse(bigStream(100), limits)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PARSE_WORKER_FAILED' });
      const again = await Promise.resolve(pool.parse(bigStream(100), limits)).catch((e: unknown) => e);
      expect(again).toMatchObject({ code: 'PARSE_WORKER_FAILED' });
    } finally {
      await pool.close();
    }
  });
});
