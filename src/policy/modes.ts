import type { LoadedPolicy } from './types.js';

export type PolicyMode = 'enforce' | 'audit';

/** Annotation on a ValidatingPolicy that sets its mode: a fail (or error) denies only in enforce. */
export const MODE_ANNOTATION = 'syncgate.dev/mode';

export interface ModeSettings {
  /** Mode of a policy that has no annotation. */
  defaultMode: PolicyMode;
  /** Per-policy overrides from the configuration; they win over the annotation. */
  overrides: Record<string, PolicyMode>;
}

/** The mode a policy runs in: config override, else its annotation, else the default. */
export function policyMode(policy: LoadedPolicy, settings: ModeSettings): PolicyMode {
  const override = settings.overrides[policy.name];
  if (override) return override;
  const annotated = policy.annotations[MODE_ANNOTATION];
  if (annotated === 'enforce' || annotated === 'audit') return annotated;
  return settings.defaultMode;
}
