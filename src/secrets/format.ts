/** The syncgate SealedSecret object (docs/sealing.md §1). */
export const SEALED_SECRET_API_VERSION = 'syncgate.dev/v1alpha1';
export const SEALED_SECRET_KIND = 'SealedSecret';

export const SCOPES = ['strict', 'namespace-wide', 'cluster-wide'] as const;
export type Scope = (typeof SCOPES)[number];

export const DEFAULT_SECRET_TYPE = 'Opaque';
/** Kubernetes caps a Secret at 1 MiB; we cap each value and the whole data map at that. */
export const MAX_VALUE_BYTES = 1024 * 1024;

export interface SecretTemplate {
  type?: string;
  immutable?: boolean;
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

export interface SealedSecret {
  apiVersion: typeof SEALED_SECRET_API_VERSION;
  kind: typeof SEALED_SECRET_KIND;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    scope?: Scope;
    encryptedData: Record<string, string>;
    template?: SecretTemplate;
  };
}

/** A v1 Secret as produced by unsealing. */
export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  type: string;
  immutable?: boolean;
  data: Record<string, string>;
}

/** Where a value may be opened: the inputs of the scope label (docs/sealing.md §3). */
export interface SealTarget {
  scope: Scope;
  namespace: string;
  name: string;
  type: string;
  dataKey: string;
}

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

export function objectRef(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}
