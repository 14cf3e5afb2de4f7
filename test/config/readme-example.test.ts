import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/config/defaults.js';
import { parseConfig } from '../../src/config/load.js';

describe('the configuration example in README.md', () => {
  it('is valid against the schema', () => {
    const readme = readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    const config = parseConfig(yaml.load(block!), 'README.md', '/etc/syncgate');
    expect(config.trust.rules[0]!.repositories).toEqual(['github.com/acme/*']);
    expect(config.admission?.certFile).toBe('/etc/syncgate/tls/tls.crt');
  });
});
