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

const positiveInt = z.number().int().positive();

/** The `audit` section (docs/audit.md §9). */
const auditSchema = z
  .object({
    /** Append-only JSON Lines file, one record per decision and security event (the active file). */
    path: z.string().min(1).default('data/audit.jsonl'),
    /** Recorded in every record's `clock` field: name the time source (e.g. "system (chrony, pool.ntp.org)"). */
    clockSource: z.string().min(1).max(200).default('system'),
    rotation: z
      .object({
        /** Rotate before the active file would pass this size. */
        maxBytes: positiveInt.default(64 * 1024 * 1024),
        /** Rotate once the active file's first record is this old. */
        maxAgeSeconds: positiveInt.default(86_400),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        /** Delete rotated files whose last record is older than this (unset: never by age). */
        maxAgeDays: z.number().positive().optional(),
        /** Keep at most this many rotated files (unset: no limit). */
        maxFiles: positiveInt.optional(),
        /** Never delete a rotated file that `syncgate audit export --mark-exported` has not exported. */
        keepUnexported: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    checkpoints: z
      .object({
        /** Ed25519 private key (PKCS#8 PEM, from `syncgate audit keygen`). Unset: no checkpoints, the chain only. */
        keyFile: z.string().min(1).optional(),
        everyRecords: positiveInt.default(1000),
        everySeconds: positiveInt.default(60),
        mirror: z
          .object({
            /** Also append every checkpoint to this file (ideally on other storage). */
            file: z.string().min(1).optional(),
            /** Also print every checkpoint as a JSON line on stdout (for the cluster's log pipeline). */
            stdout: z.boolean().default(false),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AuditConfig = z.infer<typeof auditSchema>;

/** The whole configuration file. Every field has a default, so `{}` is a valid file. */
export const configSchema = z
  .object({
    listen: hostPort.default('127.0.0.1:8480'),
    /**
     * Serve the main listener (POST /v1/gate, probes, metrics, audit export) over HTTPS. With
     * clientCaFile, every client must present a certificate issued by that CA (mutual TLS).
     * Unset: plain HTTP, for the sidecar on 127.0.0.1.
     */
    tls: z
      .object({
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        clientCaFile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
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
        /**
         * YAML (in bytes of document text) whose parsed documents and policy results are kept
         * between decisions, keyed by the SHA-256 of each document; 0 keeps nothing.
         */
        manifestCacheBytes: z.number().int().nonnegative().default(16 * 1024 * 1024),
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
        manifestCacheBytes: 16 * 1024 * 1024,
        decisionTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        shutdownGraceMs: 25_000,
      }),
    auth: z
      .object({
        /** Bearer tokens accepted on POST /v1/gate. Empty: the gate is open to whoever can reach it (sidecar on 127.0.0.1). */
        gateTokens: z.array(tokenEntry).default([]),
        /** Bearer tokens accepted on admin endpoints (GET /v1/audit). Empty: those endpoints are disabled. */
        adminTokens: z.array(tokenEntry).default([]),
      })
      .strict()
      .default({ gateTokens: [], adminTokens: [] }),
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
    /** Sealed secrets: where the cluster's sealing keys come from and how unsealed Secrets are delivered. */
    sealing: z
      .object({
        /** Private key files or directories (every `*.key` in them), reloaded on change. */
        keyFiles: z.array(z.string().min(1)).default([]),
        /** Key Secrets labelled `syncgate.dev/sealing-key=active` in a namespace, listed and watched. */
        kubernetes: z
          .object({
            /** Namespace of the key Secrets; default: the gate's own (POD_NAMESPACE or the service account's). */
            namespace: z.string().min(1).optional(),
            /** Out-of-cluster: a kubeconfig file (and context); in a pod the service account is used. */
            kubeconfig: z.string().min(1).optional(),
            context: z.string().min(1).optional(),
            /** Generate a new key when the newest is older than this many days (0: never). */
            renewalDays: z.number().nonnegative().default(0),
          })
          .strict()
          .optional(),
        /** Bitnami sealing keys (PEM or a key Secret backup), to unseal bitnami.com/v1alpha1 SealedSecrets. */
        bitnamiKeyFiles: z.array(z.string().min(1)).default([]),
        /**
         * apiserver: the gate writes each Secret itself (server-side apply) so plaintext never passes
         * through the reconciler or its cache. inline: Secrets are returned in the decision (opt-in,
         * only for pipelines that do not cache what they receive).
         */
        delivery: z.enum(['apiserver', 'inline']).default('apiserver'),
        /** Overwrite an existing Secret syncgate did not write (off: such a Secret denies the sync). */
        adoptExisting: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** The ValidatingWebhook listener (HTTPS) for Flux and any reconciler that applies through the API server. */
    admission: z
      .object({
        listen: hostPort.default('0.0.0.0:8443'),
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        /** Deadline for one review; keep it below the webhook's timeoutSeconds. */
        timeoutMs: z.number().int().positive().max(30_000).default(5_000),
      })
      .strict()
      .optional(),
    audit: auditSchema.prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
