import { loadConfig } from '../config/load.js';
import type { AuditConfig } from '../config/schema.js';
import { InputError } from '../errors.js';

export function checkOutput(output: string): 'text' | 'json' {
  if (output !== 'text' && output !== 'json') throw new InputError('USAGE', `--output must be text or json, not ${output}`);
  return output;
}

/** The audit section: from --config, else the embedded defaults; --log overrides the path. */
export async function auditConfigFrom(opts: { config?: string; log?: string }): Promise<AuditConfig> {
  const { config } = await loadConfig(opts.config, opts.log !== undefined ? { auditLog: opts.log } : {});
  return config.audit;
}
