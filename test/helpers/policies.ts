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
