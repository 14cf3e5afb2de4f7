/** `syncgate policy …`: the policy commands for security teams and policy authors. */
import type { Command } from 'commander';
import { registerPolicyScan } from './policy-scan.js';
import { registerPolicyTest } from './policy-test.js';

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('evaluate kyverno-json ValidatingPolicies (scan) and run policy tests (test)');
  registerPolicyScan(policy);
  registerPolicyTest(policy);
}
