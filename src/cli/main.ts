#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { SyncgateError } from '../errors.js';
import { registerArgocd } from './argocd.js';
import { registerAudit } from './audit.js';
import { EXIT_USAGE } from './exit-codes.js';
import { registerKeys } from './keys.js';
import { registerPolicy } from './policy.js';
import { registerReseal } from './reseal.js';
import { registerSeal } from './seal.js';
import { registerServe } from './serve.js';
import { registerUnseal } from './unseal.js';
import { registerVerifyCommit } from './verify-commit.js';

const program = new Command('syncgate')
  .description('security gate for GitOps: commit signatures, policies, sealed secrets, audit')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

registerServe(program);
registerVerifyCommit(program);
registerKeys(program);
registerSeal(program);
registerReseal(program);
registerUnseal(program);
registerAudit(program);
registerPolicy(program);
registerArgocd(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (err instanceof SyncgateError) {
    process.stderr.write(`syncgate: ${err.code}: ${err.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else {
    process.stderr.write(`syncgate: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = EXIT_USAGE;
  }
}
