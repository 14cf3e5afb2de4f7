import { readFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ZodError } from 'zod';
import { ConfigError } from '../errors.js';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from './defaults.js';
import { configSchema, type Config } from './schema.js';

export interface LoadedConfig {
  config: Config;
  /** Where the configuration came from: a file path, or "embedded defaults". */
  source: string;
  usingEmbeddedDefaults: boolean;
}

/** Command-line flags that override the file. */
export interface ConfigOverrides {
  listen?: string;
  keyrings?: string[];
  auditLog?: string;
  logLevel?: string;
}

function describeZodError(err: ZodError, file: string): ConfigError {
  const issue = err.issues[0];
  const fieldPath = issue ? issue.path.map(String).join('.') : '';
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more problem(s))` : '';
  return new ConfigError(
    'CONFIG_INVALID',
    `${file}: ${fieldPath || '(root)'}: ${issue?.message ?? 'invalid'}${more}`,
    { file, path: fieldPath },
  );
}

function sshTrustPaths(trust: Config['trust'], abs: (p: string) => string): Config['trust'] {
  return {
    ...trust,
    ...(trust.allowedSigners ? { allowedSigners: trust.allowedSigners.map(abs) } : {}),
    ...(trust.sshRevokedKeys ? { sshRevokedKeys: trust.sshRevokedKeys.map(abs) } : {}),
  };
}

function resolvePaths(config: Config, baseDir: string): Config {
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  return {
    ...config,
    // SSH trust files (allowed signers, revoked keys) resolve like keyrings.
    trust: { ...sshTrustPaths(config.trust, abs), keyrings: config.trust.keyrings.map(abs), ...(config.trust.trustedRoot ? { trustedRoot: abs(config.trust.trustedRoot) } : {}) },
    ...(config.tls
      ? { tls: { ...config.tls, certFile: abs(config.tls.certFile), keyFile: abs(config.tls.keyFile), ...(config.tls.clientCaFile ? { clientCaFile: abs(config.tls.clientCaFile) } : {}) } }
      : {}),
    ...(config.admission ? { admission: { ...config.admission, certFile: abs(config.admission.certFile), keyFile: abs(config.admission.keyFile) } } : {}),
    policies: { ...config.policies, paths: config.policies.paths.map(abs), exceptions: config.policies.exceptions.map(abs) },
    sealing: {
      ...config.sealing,
      keyFiles: config.sealing.keyFiles.map(abs),
      bitnamiKeyFiles: config.sealing.bitnamiKeyFiles.map(abs),
      ...(config.sealing.kubernetes?.kubeconfig ? { kubernetes: { ...config.sealing.kubernetes, kubeconfig: abs(config.sealing.kubernetes.kubeconfig) } } : {}),
    },
    audit: {
      ...config.audit,
      path: abs(config.audit.path),
      checkpoints: {
        ...config.audit.checkpoints,
        ...(config.audit.checkpoints.keyFile !== undefined ? { keyFile: abs(config.audit.checkpoints.keyFile) } : {}),
        mirror: {
          ...config.audit.checkpoints.mirror,
          ...(config.audit.checkpoints.mirror.file !== undefined ? { file: abs(config.audit.checkpoints.mirror.file) } : {}),
        },
      },
    },
    auth: {
      ...config.auth,
      gateTokens: config.auth.gateTokens.map((t) => (t.tokenFile ? { ...t, tokenFile: abs(t.tokenFile) } : t)),
      adminTokens: config.auth.adminTokens.map((t) => (t.tokenFile ? { ...t, tokenFile: abs(t.tokenFile) } : t)),
    },
  };
}

/** Validates a parsed configuration object; relative paths resolve against `baseDir`. */
export function parseConfig(raw: unknown, file: string, baseDir: string, overrides: ConfigOverrides = {}): Config {
  const input = (raw ?? {}) as Record<string, unknown>;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('CONFIG_INVALID', `${file}: the configuration must be a YAML mapping`, { file });
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw describeZodError(parsed.error, file);
  let config = resolvePaths(parsed.data, baseDir);

  // Flags are relative to the working directory, like any command-line path.
  if (overrides.listen !== undefined) {
    const check = configSchema.shape.listen.safeParse(overrides.listen);
    if (!check.success) throw new ConfigError('CONFIG_INVALID', `--listen: ${check.error.issues[0]?.message}`, { path: 'listen' });
    config = { ...config, listen: check.data };
  }
  if (overrides.keyrings && overrides.keyrings.length > 0) {
    config = { ...config, trust: { ...config.trust, keyrings: overrides.keyrings.map((p) => path.resolve(p)) } };
  }
  if (overrides.auditLog !== undefined) config = { ...config, audit: { ...config.audit, path: path.resolve(overrides.auditLog) } };
  if (overrides.logLevel !== undefined) {
    const check = configSchema.shape.log.safeParse({ level: overrides.logLevel });
    if (!check.success) throw new ConfigError('CONFIG_INVALID', `--log-level: ${check.error.issues[0]?.message}`, { path: 'log.level' });
    config = { ...config, log: check.data };
  }
  return config;
}

/** Loads `file` (YAML), or the embedded defaults when no file is given. */
export async function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}): Promise<LoadedConfig> {
  if (file === undefined) {
    return {
      config: parseConfig(EMBEDDED_DEFAULTS, 'embedded defaults', PACKAGE_ROOT, overrides),
      source: 'embedded defaults',
      usingEmbeddedDefaults: true,
    };
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('CONFIG_UNREADABLE', `${file}: cannot read the configuration file (${code ?? 'error'})`, { file });
  }
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: file });
  } catch (err) {
    const mark = (err as { mark?: { line?: number } }).mark;
    throw new ConfigError('CONFIG_PARSE_ERROR', `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, {
      file,
      ...(mark?.line !== undefined ? { line: mark.line + 1 } : {}),
    });
  }
  return {
    config: parseConfig(raw, file, path.dirname(path.resolve(file)), overrides),
    source: path.resolve(file),
    usingEmbeddedDefaults: false,
  };
}
