import { z } from 'zod';
import { trustSchema } from './trust.js';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:8480')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

const tokenEntry = z
  .object({
    /** Caller identity recorded in the audit log for requests bearing this token. */
    name: z.string().min(1),
    /** File holding the token (preferred: a mounted Secret). */
    tokenFile: z.string().min(1).optional(),
    /** Environment variable holding the token. */
    tokenEnv: z.string().min(1).optional(),
  })
  .strict()
  .refine((t) => Boolean(t.tokenFile) !== Boolean(t.tokenEnv), 'give exactly one of tokenFile or tokenEnv');

/** The whole configuration file. Every field has a default, so `{}` is a valid file. */
export const configSchema = z
  .object({
    listen: hostPort.default('127.0.0.1:8480'),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    limits: z
      .object({
        /** Largest accepted request body. */
        bodyBytes: z.number().int().positive().default(16 * 1024 * 1024),
        /** Most manifests (YAML documents or array items) in one request. */
        manifests: z.number().int().positive().default(10_000),
        /** Most nodes (objects, arrays, scalars; aliases counted every time they are reached) in all manifests. */
        manifestNodes: z.number().int().positive().default(5_000_000),
        /** Deepest nesting inside one manifest. */
        manifestDepth: z.number().int().positive().default(64),
        /** Deadline for one decision; past it the answer is deny. */
        decisionTimeoutMs: z.number().int().positive().default(10_000),
        /** Time a client has to send its whole request (slow clients are cut off). */
        requestTimeoutMs: z.number().int().positive().default(30_000),
        headersTimeoutMs: z.number().int().positive().default(10_000),
        /** How long SIGTERM waits for in-flight decisions before exiting anyway. */
        shutdownGraceMs: z.number().int().positive().default(25_000),
      })
      .strict()
      .default({
        bodyBytes: 16 * 1024 * 1024,
        manifests: 10_000,
        manifestNodes: 5_000_000,
        manifestDepth: 64,
        decisionTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        shutdownGraceMs: 25_000,
      }),
    auth: z
      .object({
        /** Bearer tokens accepted on POST /v1/gate. Empty: the gate is open to whoever can reach it (sidecar on 127.0.0.1). */
        gateTokens: z.array(tokenEntry).default([]),
      })
      .strict()
      .default({ gateTokens: [] }),
    trust: trustSchema.default({ keyrings: [], rules: [] }),
    policies: z
      .object({
        /** ValidatingPolicy files or directories (loaded recursively). */
        paths: z.array(z.string().min(1)).default([]),
        /** PolicyException files or directories. */
        exceptions: z.array(z.string().min(1)).default([]),
        /** Mode of a policy without a `syncgate.dev/mode` annotation. */
        defaultMode: z.enum(['enforce', 'audit']).default('enforce'),
        /** Per-policy mode overrides (policy name → mode); they win over the annotation. */
        modes: z.record(z.string().min(1), z.enum(['enforce', 'audit'])).default({}),
        /** External bindings for every policy (each key `k` is `$k`), e.g. allowedRegistries. */
        bindings: z.record(z.string().min(1), z.unknown()).default({}),
        /** Reload policies and exceptions when their files change. */
        watch: z.boolean().default(true),
      })
      .strict()
      .default({ paths: [], exceptions: [], defaultMode: 'enforce', modes: {}, bindings: {}, watch: true }),
    audit: z
      .object({
        /** Append-only JSON Lines file, one record per decision. */
        path: z.string().min(1).default('data/audit.jsonl'),
      })
      .strict()
      .default({ path: 'data/audit.jsonl' }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
