/**
 * `syncgate policy test PATH`: runs every `syncgate-test.yaml` under PATH (or the one named) and
 * reports each mismatch between expected and actual results. Exit 0 when all match, 1 on any
 * mismatch, 2 when a test file (or a policy or resource it names) cannot be used.
 */
import type { Command } from 'commander';
import { InputError, SyncgateError } from '../errors.js';
import { findTestFiles, loadTestFile, runPolicyTest, type TestFileReport } from '../policy/testing.js';
import { EXIT_FAIL, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

interface Options {
  output: string;
  verbose?: boolean;
}

interface BrokenTest {
  file: string;
  code: string;
  message: string;
}

function textReport(reports: TestFileReport[], broken: BrokenTest[], verbose: boolean): string {
  const lines: string[] = [];
  for (const r of reports) {
    const ok = r.mismatches.length === 0;
    lines.push(`${ok ? 'PASS' : 'FAIL'} ${r.file} (${r.name}): ${r.checks.length} checks, ${r.mismatches.length} mismatch${r.mismatches.length === 1 ? '' : 'es'}`);
    for (const c of verbose ? r.checks : r.mismatches) {
      const mark = c.expected === c.actual ? 'ok      ' : 'MISMATCH';
      lines.push(`  ${mark} POLICY=${c.policy}, RULE=${c.rule}, RESOURCE=${c.resource}: expected ${c.expected}, got ${c.actual}${c.expected !== c.actual && c.message ? `\n    -> ${c.message}` : ''}`);
    }
  }
  for (const b of broken) lines.push(`ERROR ${b.file}: ${b.code}: ${b.message}`);
  const checks = reports.reduce((n, r) => n + r.checks.length, 0);
  const mismatches = reports.reduce((n, r) => n + r.mismatches.length, 0);
  lines.push(`${reports.length + broken.length} test file(s), ${checks} checks, ${mismatches} mismatch(es)${broken.length > 0 ? `, ${broken.length} unusable test file(s)` : ''}`);
  return `${lines.join('\n')}\n`;
}

export function registerPolicyTest(policy: Command): void {
  policy
    .command('test')
    .description('run the policy tests (syncgate-test.yaml files) under PATH and report every mismatch')
    .argument('<path>', 'directory to search recursively for syncgate-test.yaml, or one test file')
    .option('--output <format>', 'text or json', 'text')
    .option('-v, --verbose', 'list every check, not only the mismatches')
    .action(async (target: string, opts: Options) => {
      if (opts.output !== 'text' && opts.output !== 'json') throw new InputError('USAGE', `--output must be text or json, not ${opts.output}`);
      const files = await findTestFiles(target);
      const reports: TestFileReport[] = [];
      const broken: BrokenTest[] = [];
      for (const file of files) {
        try {
          reports.push(await runPolicyTest(await loadTestFile(file)));
        } catch (err) {
          if (!(err instanceof SyncgateError)) throw err;
          broken.push({ file, code: err.code, message: err.message });
        }
      }
      const mismatches = reports.reduce((n, r) => n + r.mismatches.length, 0);
      if (opts.output === 'json') {
        const checks = reports.reduce((n, r) => n + r.checks.length, 0);
        const out = { summary: { testFiles: files.length, checks, mismatches, unusable: broken.length }, tests: reports, errors: broken };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        process.stdout.write(textReport(reports, broken, opts.verbose ?? false));
      }
      process.exitCode = broken.length > 0 ? EXIT_USAGE : mismatches > 0 ? EXIT_FAIL : EXIT_OK;
    });
}
