import type { AuditEvent, AuditRecord } from '../audit/record.js';
import type { ModeSettings } from '../policy/modes.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { SealingRuntime } from './sealing-runtime.js';
import type { SignatureMethod, SignerEvidence } from '../signatures/types.js';
import type { ManifestCache, PolicyResultCache } from './manifest-cache.js';
import type { ManifestLimits } from './manifests.js';

/** The slice of the signature verifier the gate needs. */
export interface ObjectSignatureVerifier {
  verifyObject(input: { raw: Buffer; kind: 'commit' | 'tag'; repository?: string; now?: Date }): Promise<{
    verified: boolean;
    oid: string;
    method: SignatureMethod | null;
    signer?: SignerEvidence;
    reason?: { code: string; message: string };
  }>;
}

export interface AuditSink {
  append(event: AuditEvent): Promise<AuditRecord>;
}

/** Who is asking, as established by the HTTP layer. */
export interface Caller {
  identity: string;
  remoteAddress?: string;
}

export interface GateDependencies {
  /** Undefined until trust material is loaded: every decision is then a deny. */
  verifier: () => ObjectSignatureVerifier | undefined;
  /** The policies and exceptions in force; undefined until the first set has loaded. */
  policies: () => PolicySet | undefined;
  policyOptions: { modes: ModeSettings; bindings: Record<string, unknown> };
  /** Sealing keys and delivery; undefined when sealing is not configured. */
  sealing?: SealingRuntime;
  audit: AuditSink;
  limits: ManifestLimits & { decisionTimeoutMs: number };
  /** Documents and policy results kept between decisions; without them every request starts afresh. */
  caches?: { manifests: ManifestCache; policyResults: PolicyResultCache };
  clock?: () => Date;
  /** Called with each stage's duration in seconds (metrics). */
  observeStage?: (stage: string, seconds: number) => void;
}
