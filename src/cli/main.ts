#!/usr/bin/env node
import type { Command } from 'commander';
import { SyncgateError } from '../errors.js';
import { widenHeapGrowth } from '../server/heap-growth.js';
import { pauseOptimizingCompilers } from '../server/optimizer-pause.js';
import { stopPretenuring } from '../server/pretenuring.js';
import { EXIT_USAGE } from './exit-codes.js';
import { VERSION } from '../package-root.js';

// The gate's start is run-once code: V8's optimizing compilers wait until it is ready
// (optimizer-pause.ts); its old generation may grow to three times what is live (heap-growth.ts);
// and no allocation site is moved to the old generation wholesale (pretenuring.ts).
if (process.argv[2] === 'serve') {
  pauseOptimizingCompilers();
  widenHeapGrowth();
  stopPretenuring();
}

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs (or all of them for help and
 * unknown commands): `serve` need not load the sealing, policy-test or Argo CD code, and the
 * other way round. In the order `syncgate --help` lists them.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./serve.js')).registerServe,
  'verify-commit': async () => (await import('./verify-commit.js')).registerVerifyCommit,
  keys: async () => (await import('./keys.js')).registerKeys,
  seal: async () => (await import('./seal.js')).registerSeal,
  reseal: async () => (await import('./reseal.js')).registerReseal,
  unseal: async () => (await import('./unseal.js')).registerUnseal,
  audit: async () => (await import('./audit.js')).registerAudit,
  policy: async () => (await import('./policy.js')).registerPolicy,
  argocd: async () => (await import('./argocd.js')).registerArgocd,
};

function reportFailure(err: unknown): void {
  if (err instanceof SyncgateError) process.stderr.write(`syncgate: ${err.code}: ${err.message}\n`);
  else process.stderr.write(`syncgate: ${(err as Error).message ?? String(err)}\n`);
  process.exitCode = EXIT_USAGE;
}

/**
 * `syncgate serve --flag value ...` (a container's command) starts without commander: the gate is
 * a long-running process and commander (with node:child_process) is ~1 MiB of it for the life of
 * the process. parseServeArgs takes only what commander would parse the same way; anything else
 * (help, an unknown flag, ...) goes through commander below.
 */
async function runServeDirectly(args: string[]): Promise<boolean> {
  if (args[0] !== 'serve') return false;
  const { parseServeArgs, runServe } = await import('./serve.js');
  const opts = parseServeArgs(args.slice(1));
  if (!opts) return false;
  try {
    await runServe(opts);
  } catch (err) {
    reportFailure(err);
  }
  return true;
}

if (!(await runServeDirectly(process.argv.slice(2)))) {
  const { Command: CommandClass, CommanderError } = await import('commander');
  const program = new CommandClass('syncgate')
    .description('security gate for GitOps: commit signatures, policies, sealed secrets, audit')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();

  const named = process.argv.slice(2).find((a) => !a.startsWith('-'));
  const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const register of await Promise.all(wanted.map((name) => COMMANDS[name]!()))) register(program);

  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
    else reportFailure(err);
  }
}
