import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import picomatch from 'picomatch';
import { z } from 'zod';
import { InputError } from '../errors.js';

export const EXCEPTION_API_VERSION = 'syncgate.dev/v1alpha1';
export const EXCEPTION_KIND = 'PolicyException';

/** Globs over a manifest's identity; an absent field matches anything. */
const selectorSchema = z.strictObject({
  apiVersion: z.string().min(1).optional(),
  kind: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
});

/**
 * `expires`: an ISO date (valid through that day, UTC) or date-time. Required: an exception
 * without an end is a policy change, not an exception.
 */
const expirySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/, 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time with a zone')
  .transform((s, ctx) => {
    const at = s.length === 10 ? Date.parse(`${s}T00:00:00Z`) + 24 * 3600 * 1000 : Date.parse(s);
    if (Number.isNaN(at)) {
      ctx.addIssue({ code: 'custom', message: 'not a valid date' });
      return z.NEVER;
    }
    return new Date(at);
  });

const exceptionSchema = z.strictObject({
  apiVersion: z.literal(EXCEPTION_API_VERSION),
  kind: z.literal(EXCEPTION_KIND),
  metadata: z.object({ name: z.string().min(1) }).passthrough(),
  spec: z.strictObject({
    /** Name of the ValidatingPolicy. */
    policy: z.string().min(1),
    /** Rules of that policy; absent means every rule. */
    rules: z.array(z.string().min(1)).min(1).optional(),
    resources: z.array(selectorSchema).min(1),
    owner: z.string().min(1),
    reason: z.string().min(1),
    expires: expirySchema,
  }),
});

export type ResourceSelector = z.infer<typeof selectorSchema>;

export interface PolicyException {
  name: string;
  policy: string;
  rules: string[] | undefined;
  owner: string;
  reason: string;
  expires: Date;
  file: string;
  document: number;
  matches: (resource: ResourceIdentity) => boolean;
}

export interface ResourceIdentity {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
}

function compileSelector(s: ResourceSelector): (r: ResourceIdentity) => boolean {
  const fields = (['apiVersion', 'kind', 'namespace', 'name'] as const).flatMap((f) => {
    const glob = s[f];
    return glob === undefined ? [] : [{ f, test: picomatch(glob, { dot: true }) }];
  });
  return (r) => fields.every(({ f, test }) => test(r[f] ?? ''));
}

/** Parses one file of PolicyException documents; errors name the file, document and field. */
export function parseExceptions(text: string, file: string): PolicyException[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, undefined, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    const line = (err as { mark?: { line?: number } }).mark?.line;
    throw new InputError('EXCEPTION_PARSE_ERROR', `${file}: not valid YAML: ${(err as { reason?: string }).reason ?? (err as Error).message}`, {
      file,
      ...(line !== undefined ? { line: line + 1 } : {}),
    });
  }
  const out: PolicyException[] = [];
  docs.forEach((doc, document) => {
    if (doc === null || doc === undefined) return;
    const parsed = exceptionSchema.safeParse(doc);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const fieldPath = issue?.path.map(String).join('.') ?? '';
      throw new InputError('EXCEPTION_INVALID', `${file} (document ${document}): ${fieldPath || '(root)'}: ${issue?.message ?? 'invalid'}`, {
        file,
        document,
        path: fieldPath,
      });
    }
    const { metadata, spec } = parsed.data;
    const selectors = spec.resources.map(compileSelector);
    out.push({
      name: metadata.name,
      policy: spec.policy,
      rules: spec.rules,
      owner: spec.owner,
      reason: spec.reason,
      expires: spec.expires,
      file,
      document,
      matches: (r) => selectors.some((s) => s(r)),
    });
  });
  return out;
}

async function filesUnder(p: string): Promise<string[]> {
  const s = await stat(p);
  if (!s.isDirectory()) return [p];
  const out: string[] = [];
  for (const e of (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(p, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(full)));
    else if (/\.ya?ml$/i.test(e.name)) out.push(full);
  }
  return out;
}

/** Loads every exception in the given files or directories. */
export async function loadExceptions(paths: readonly string[]): Promise<PolicyException[]> {
  const out: PolicyException[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      files = await filesUnder(p);
    } catch (err) {
      throw new InputError('EXCEPTION_READ_ERROR', `${p}: cannot read exceptions (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file: p });
    }
    for (const file of files) out.push(...parseExceptions(await readFile(file, 'utf8'), file));
  }
  return out;
}

/** The first unexpired exception covering this (policy, rule, resource), if any. */
export function findException(
  exceptions: readonly PolicyException[],
  policy: string,
  rule: string,
  resource: ResourceIdentity,
  now: Date,
): PolicyException | undefined {
  return exceptions.find(
    (e) => e.policy === policy && (e.rules === undefined || e.rules.includes(rule)) && e.expires.getTime() > now.getTime() && e.matches(resource),
  );
}
