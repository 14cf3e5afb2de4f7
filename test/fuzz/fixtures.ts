/** A policy that fails every resource: any admitted CREATE/UPDATE must be denied. */
export const DENY_ALL_POLICY = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: fuzz-deny-all
spec:
  rules:
    - name: never
      assert:
        all:
          - message: nothing is admitted under the fuzz policy
            check:
              (\`false\`): true
`;
