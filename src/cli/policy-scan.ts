/**
 * `syncgate policy scan` (kyverno-json `scan` compatible): evaluates every policy on every
 * resource of a payload. Exit 0 when nothing fails, 1 when a rule fails or errors, 2 on usage,
 * load, payload, bindings or pre-processor errors (the message names the file, document and path).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { evaluate, loadPolicies, parseBindings, parsePayload, PolicyErrorCode, PolicyLoadError, preprocess, toResources } from '../policy/index.js';
import { documentStartLines, jsonReport, junitReport, REPORT_FORMATS, sarifReport, textReport, type ReportFormat } from '../policy/report.js';
import type { JsonValue } from '../policy/index.js';
import { EXIT_FAIL, EXIT_OK } from './exit-codes.js';
import { VERSION } from '../package-root.js';

interface Options {
  policy?: string[];
  payload?: string;
  preProcess?: string[];
  bindings?: string;
  output: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function readInput(file: string, what: string, code: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new PolicyLoadError(code, `${file}: cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file });
  }
}

export function registerPolicyScan(policy: Command): void {
  policy
    .command('scan')
    .description('evaluate kyverno-json ValidatingPolicies on a payload (compatible with `kyverno-json scan`)')
    .option('--policy <path>', 'policy file or directory (repeatable; directories are walked recursively)', collect)
    .option('--payload <file>', 'payload: YAML (multi-document), JSON, or a top-level array of resources')
    .option('--pre-process <expr>', 'JMESPath expression applied to the payload before evaluation (repeatable, in order)', collect)
    .option('--bindings <file>', 'YAML/JSON mapping of external bindings: each key k becomes $k')
    .option('--output <format>', `output format: ${REPORT_FORMATS.join(', ')}`, 'text')
    .action(async (opts: Options) => {
      if (!REPORT_FORMATS.includes(opts.output as ReportFormat)) throw new InputError('USAGE', `--output must be one of ${REPORT_FORMATS.join(', ')}, not ${opts.output}`);
      if (!opts.policy || opts.policy.length === 0) throw new InputError('USAGE', 'give at least one --policy PATH');
      if (opts.payload === undefined) throw new InputError('USAGE', 'give --payload FILE');
      const format = opts.output as ReportFormat;

      const policies = await loadPolicies(opts.policy);
      let bindings: Record<string, JsonValue> | undefined;
      if (opts.bindings !== undefined) bindings = parseBindings(await readInput(opts.bindings, 'bindings', PolicyErrorCode.BINDINGS_INVALID), opts.bindings);
      const payloadText = await readInput(opts.payload, 'payload', PolicyErrorCode.PAYLOAD_ERROR);
      const parsed = parsePayload(payloadText, opts.payload);
      const preProcess = opts.preProcess ?? [];
      const resources = toResources(preprocess(parsed, preProcess, bindings ?? {}));

      const results = evaluate(policies, resources, { bindings: bindings ?? {}, includeSkipped: format !== 'text' });
      const isJson = path.extname(opts.payload).toLowerCase() === '.json';
      const lines = !isJson && preProcess.length === 0 ? documentStartLines(payloadText, resources.length) : undefined;
      const input = {
        policies,
        results,
        resourceCount: resources.length,
        payloadFile: opts.payload,
        ...(bindings !== undefined ? { bindings } : {}),
        ...(lines ? { resourceLines: lines } : {}),
        toolVersion: VERSION,
      };
      let out: string;
      if (format === 'json') out = `${JSON.stringify(jsonReport(input), null, 2)}\n`;
      else if (format === 'junit') out = junitReport(input);
      else if (format === 'sarif') out = `${JSON.stringify(sarifReport(input), null, 2)}\n`;
      else out = textReport(input);
      process.stdout.write(out);
      const failed = results.some((r) => r.status === 'fail' || r.status === 'error');
      process.exitCode = failed ? EXIT_FAIL : EXIT_OK;
    });
}
