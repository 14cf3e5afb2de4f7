import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimalPolicy } from '../helpers/policies.js';
import { PolicyStore } from '../../src/policy/policy-set.js';


describe('PolicyStore', () => {
  it('keeps the last good set when a reload fails, and reports why', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-policy-set-'));
    const file = path.join(dir, 'p.yaml');
    await writeFile(file, minimalPolicy('good'));
    const store = new PolicyStore({ policies: [file], exceptions: [] });
    await store.reload();
    await writeFile(file, 'kind: [');
    const outcome = await store.reload();
    expect(outcome.ok).toBe(false);
    expect(store.current()!.policies.map((p) => p.name)).toEqual(['good']);
    expect(store.lastError()?.code).toBe('POLICY_PARSE_ERROR');
  });
});
