import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-config-'));
  const file = path.join(dir, 'syncgate.yaml');
  await writeFile(file, text);
  return file;
}

describe('loadConfig', () => {
  it('embedded defaults point at the example keys in the package', async () => {
    const { config, usingEmbeddedDefaults } = await loadConfig(undefined);
    expect(usingEmbeddedDefaults).toBe(true);
    expect(config.listen).toBe('127.0.0.1:8480');
    expect(config.trust.keyrings).toEqual([path.join(PACKAGE_ROOT, 'keys.example', 'dev-signing-key.pub.asc')]);
    expect(config.trust.rules[0]!.openpgp.fingerprints).toHaveLength(1);
  });

  it('resolves relative paths against the config file and applies flags over the file', async () => {
    const file = await configFile('listen: 127.0.0.1:9000\ntrust:\n  keyrings: [keys/a.asc]\naudit:\n  path: logs/audit.jsonl\n');
    const { config } = await loadConfig(file, { listen: '127.0.0.1:9100' });
    expect(config.listen).toBe('127.0.0.1:9100');
    expect(config.trust.keyrings).toEqual([path.join(path.dirname(file), 'keys/a.asc')]);
    expect(config.audit.path).toBe(path.join(path.dirname(file), 'logs/audit.jsonl'));
  });

  it('names the field path of an invalid value', async () => {
    const file = await configFile('limits:\n  bodyBytes: -1\n');
    await expect(loadConfig(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID', location: { file, path: 'limits.bodyBytes' } });
  });

  it('rejects unknown fields', async () => {
    const file = await configFile('listn: 127.0.0.1:1\n');
    await expect(loadConfig(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('refuses short key ids in trust rules', async () => {
    const file = await configFile("trust:\n  rules:\n    - repositories: ['**']\n      openpgp: {fingerprints: ['9C6248A8E70FAD5C']}\n");
    await expect(loadConfig(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID', location: { path: 'trust.rules.0.openpgp.fingerprints.0' } });
  });

  it('reports YAML syntax errors with a line', async () => {
    const file = await configFile('listen: [\n');
    await expect(loadConfig(file)).rejects.toMatchObject({ code: 'CONFIG_PARSE_ERROR', location: { file } });
  });

  it('reports a missing file and a bad --listen', async () => {
    await expect(loadConfig('/nonexistent/syncgate.yaml')).rejects.toMatchObject({ code: 'CONFIG_UNREADABLE' });
    await expect(loadConfig(undefined, { listen: 'nope' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
