import { z } from 'zod';
import { InputError } from '../errors.js';
import { EscapedYaml } from './escaped-yaml.js';

const hexRevision = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/, 'must be a full object id: 40 (SHA-1) or 64 (SHA-256) hex digits'));

/** POST /v1/gate body. Documented in docs/openapi.yaml. */
export const gateRequestSchema = z
  .object({
    /** The commit the reconciler is about to apply. */
    revision: hexRevision,
    /** The raw commit object exactly as `git cat-file commit <revision>` prints it. */
    commit: z.string().min(1).optional(),
    /** For Flux's Tag / TagAndHEAD modes: the raw annotated tag object (`git cat-file tag <tag>`). */
    tag: z.string().min(1).optional(),
    /** Optional object id of `tag`; when given, the tag object must hash to it. */
    tagRevision: hexRevision.optional(),
    /** How `commit` and `tag` are encoded. */
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
    /** Instead of `commit`/`tag`: a repository on the gate's filesystem to read the objects from. */
    repoPath: z.string().min(1).optional(),
    /** With repoPath in a tag mode: the tag name to read. */
    tagName: z.string().min(1).optional(),
    /** Which signatures must verify: the commit (head), the tag, or both (Flux's HEAD / Tag / TagAndHEAD). */
    verify: z.enum(['head', 'tag', 'tagAndHead']).default('head'),
    /**
     * Rendered manifests: a multi-document YAML (or JSON) string, or a JSON array of objects. The
     * HTTP layer may hand over the string still JSON-escaped, as it arrived (EscapedYaml).
     */
    manifests: z.union([z.string(), z.array(z.unknown()), z.instanceof(EscapedYaml)]),
    repository: z.string().min(1).max(2048).optional(),
    application: z
      .object({
        name: z.string().max(253).optional(),
        project: z.string().max(253).optional(),
        destination: z
          .object({
            namespace: z.string().max(253).optional(),
            server: z.string().max(2048).optional(),
            name: z.string().max(253).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.commit !== undefined && r.repoPath !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['repoPath'], message: 'give either commit (and tag) or repoPath, not both' });
    }
    if (r.commit === undefined && r.repoPath === undefined) {
      ctx.addIssue({ code: 'custom', path: ['commit'], message: 'the raw commit object (commit) or a repoPath is required' });
    }
    const needsTag = r.verify !== 'head';
    if (needsTag && r.repoPath === undefined && r.tag === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tag'], message: `verify=${r.verify} needs the raw tag object (tag)` });
    }
    if (needsTag && r.repoPath !== undefined && r.tagName === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tagName'], message: `verify=${r.verify} with repoPath needs tagName` });
    }
  });

export type GateRequest = z.infer<typeof gateRequestSchema>;

/** Validates a parsed JSON body; the first problem becomes a 400 with its field path. */
export function parseGateRequest(body: unknown): GateRequest {
  const parsed = gateRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const fieldPath = issue ? issue.path.map(String).join('.') : '';
  throw new InputError('REQUEST_INVALID', `request body: ${fieldPath || '(root)'}: ${issue?.message ?? 'invalid'}`, { path: fieldPath });
}

export function decodeObject(text: string, encoding: 'utf8' | 'base64', field: string): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text.replace(/\s+/g, '')) || text.replace(/\s+/g, '').length % 4 !== 0) {
    throw new InputError('REQUEST_INVALID', `request body: ${field}: not valid base64`, { path: field });
  }
  return Buffer.from(text, 'base64');
}
