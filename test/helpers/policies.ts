import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PolicyStore, type PolicySet } from '../../src/policy/policy-set.js';

/** The smallest valid ValidatingPolicy (one rule that checks `kind: Pod`), for loader tests. */
export const minimalPolicy = (name: string): string => `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: ${name}}
spec:
  rules:
    - name: r
      assert:
        all:
          - check:
              kind: Pod
`;

/** A policy whose one rule reads the clock: it fails from 2030 on ("too late"). */
export const clockPolicy = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: clock}
spec:
  rules:
    - name: before-2030
      assert:
        all:
          - message: too late
            check:
              (time_before(time_now_utc(), '2030-01-01T00:00:00Z')): true
`;

/** `text` as the only policy file of a fresh directory `root/name`; the directory. */
export function policyDir(root: string, name: string, text: string): string {
  const dir = path.join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.yaml`), text);
  return dir;
}

/** The policy set loaded from `paths` (no exceptions); throws its error when it does not load. */
export async function loadPolicySet(paths: string[]): Promise<PolicySet> {
  const outcome = await new PolicyStore({ policies: paths, exceptions: [] }).reload();
  if (!outcome.ok) throw outcome.error;
  return outcome.set;
}
