/**
 * Rendering scan results: kyverno-json's text lines, a flat JSON document, JUnit XML and SARIF
 * 2.1.0. Pure functions of the results; the CLI decides where they go.
 */
import { formatViolation } from './assertion/evaluate.js';
import { formatFailure } from './engine.js';
import { goSprint } from './jmespath/functions/gojson.js';
import type { JsonValue } from './jmespath/types.js';
import type { LoadedPolicy, PolicyResult } from './types.js';

export type ReportFormat = 'text' | 'json' | 'junit' | 'sarif';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'junit', 'sarif'];

export interface ScanReportInput {
  policies: readonly LoadedPolicy[];
  results: readonly PolicyResult[];
  resourceCount: number;
  /** the payload file, as given */
  payloadFile: string;
  bindings?: Record<string, JsonValue>;
  /** 1-based start line of each resource in the payload file, when known (SARIF regions) */
  resourceLines?: readonly number[];
  toolVersion?: string;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function idPart(r: PolicyResult): string {
  return typeof r.resource === 'string' ? `, ID=${r.resource}` : '';
}

/** One kyverno-json status line (plus failure details) per applicable (resource, policy, rule). */
export function resultLines(r: PolicyResult): string[] {
  const where = `(POLICY=${r.policy}, RULE=${r.rule}${idPart(r)})`;
  switch (r.status) {
    case 'pass':
      return [`- PASSED ${where}`];
    case 'error':
      return [`- ERROR: ${r.message ?? 'evaluation error'} ${where}`];
    case 'fail': {
      const lines = [`- FAILED ${where}`];
      for (const f of r.failures ?? []) {
        lines.push(` -> ${formatFailure(f)}`);
        for (const v of f.violations) lines.push(`  -> ${formatViolation(v)} (PATH=${v.path})`);
      }
      return lines;
    }
    default:
      return [];
  }
}

function bindingValue(v: JsonValue): string {
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : goSprint(v);
}

/** The text output of `kyverno-json scan` (progress lines, one line per result, `Done`). */
export function textReport(input: ScanReportInput): string {
  const lines = ['Loading policies ...'];
  if (input.bindings !== undefined) {
    lines.push('Loading bindings ...');
    for (const [k, v] of Object.entries(input.bindings)) lines.push(`- ${k} -> ${bindingValue(v)}`);
  }
  lines.push('Loading payload ...', 'Pre processing ...');
  lines.push(`Running ( evaluating ${plural(input.resourceCount, 'resource', 'resources')} against ${plural(input.policies.length, 'policy', 'policies')} ) ...`);
  for (const r of input.results) lines.push(...resultLines(r));
  lines.push('Done');
  return `${lines.join('\n')}\n`;
}

export interface JsonReportEntry {
  policy: string;
  rule: string;
  resource: string | number;
  status: PolicyResult['status'];
  message: string;
}

export function jsonReport(input: ScanReportInput): { results: JsonReportEntry[] } {
  return {
    results: input.results.map((r) => ({ policy: r.policy, rule: r.rule, resource: r.resource, status: r.status, message: r.message ?? '' })),
  };
}

// Characters XML 1.0 cannot carry at all (even escaped).
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function xmlEscape(s: string): string {
  return s.replace(XML_INVALID, '\uFFFD').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function detailText(r: PolicyResult): string {
  if (r.status === 'fail') return resultLines(r).slice(1).join('\n');
  return r.message ?? '';
}

/** JUnit XML: one testsuite per policy, one testcase per (rule, resource). */
export function junitReport(input: ScanReportInput): string {
  const byPolicy = new Map<string, PolicyResult[]>();
  for (const p of input.policies) if (!byPolicy.has(p.name)) byPolicy.set(p.name, []);
  for (const r of input.results) {
    const list = byPolicy.get(r.policy) ?? [];
    list.push(r);
    byPolicy.set(r.policy, list);
  }
  const count = (rs: readonly PolicyResult[], s: PolicyResult['status']) => rs.filter((r) => r.status === s).length;
  const all = input.results;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="syncgate policy scan" tests="${all.length}" failures="${count(all, 'fail')}" errors="${count(all, 'error')}" skipped="${count(all, 'skip')}">`,
  );
  for (const [policy, rs] of byPolicy) {
    out.push(`  <testsuite name="${xmlEscape(policy)}" tests="${rs.length}" failures="${count(rs, 'fail')}" errors="${count(rs, 'error')}" skipped="${count(rs, 'skip')}">`);
    for (const r of rs) {
      const name = xmlEscape(`${r.rule} [${typeof r.resource === 'string' ? r.resource : `#${r.resource}`}]`);
      const open = `    <testcase classname="${xmlEscape(`${r.policy}.${r.rule}`)}" name="${name}" file="${xmlEscape(input.payloadFile)}"`;
      if (r.status === 'pass') {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      const message = xmlEscape(r.message ?? '');
      if (r.status === 'fail') out.push(`      <failure message="${message}" type="fail">${xmlEscape(detailText(r))}</failure>`);
      else if (r.status === 'error') out.push(`      <error message="${message}" type="${xmlEscape(r.errorCode ?? 'error')}">${message}</error>`);
      else out.push(`      <skipped message="${message}"/>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const SEVERITY_LEVEL: Record<string, 'error' | 'warning' | 'note'> = { high: 'error', critical: 'error', medium: 'warning', low: 'note', info: 'note' };

/** SARIF 2.1.0: one reportingDescriptor per (policy, rule); one result per fail or error. */
export function sarifReport(input: ScanReportInput): object {
  const rules: object[] = [];
  const ruleIndex = new Map<string, number>();
  for (const p of input.policies) {
    const severity = p.annotations['policies.kyverno.io/severity'];
    const description = p.annotations['policies.kyverno.io/description'] ?? p.annotations['policies.kyverno.io/title'];
    for (const rule of p.rules) {
      const id = `${p.name}/${rule.name}`;
      if (ruleIndex.has(id)) continue;
      ruleIndex.set(id, rules.length);
      rules.push({
        id,
        name: rule.name,
        shortDescription: { text: `${p.name}: ${rule.name}` },
        ...(description ? { fullDescription: { text: description } } : {}),
        defaultConfiguration: { level: SEVERITY_LEVEL[severity ?? ''] ?? 'warning' },
        properties: { policy: p.name, ...(severity ? { severity } : {}), ...(p.file ? { policyFile: p.file } : {}) },
      });
    }
  }
  const results = input.results
    .filter((r) => r.status === 'fail' || r.status === 'error')
    .map((r) => {
      const id = `${r.policy}/${r.rule}`;
      const line = input.resourceLines?.[r.resourceIndex];
      const level = r.status === 'error' ? 'error' : (SEVERITY_LEVEL[r.severity ?? ''] ?? 'warning');
      return {
        ruleId: id,
        ...(ruleIndex.has(id) ? { ruleIndex: ruleIndex.get(id) } : {}),
        kind: 'fail',
        level,
        message: { text: r.status === 'error' ? `evaluation error: ${r.message ?? ''}` : (r.message ?? 'the rule failed') },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: input.payloadFile.split('\\').join('/') },
              ...(line !== undefined ? { region: { startLine: line } } : {}),
            },
            logicalLocations: [{ name: typeof r.resource === 'string' ? r.resource : `resource #${r.resource}`, kind: 'resource' }],
          },
        ],
        properties: { status: r.status, resourceIndex: r.resourceIndex, ...(r.errorCode ? { errorCode: r.errorCode } : {}) },
      };
    });
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'syncgate', informationUri: 'https://github.com/syncgate/syncgate', version: input.toolVersion ?? '0.0.0', rules } },
        artifacts: [{ location: { uri: input.payloadFile.split('\\').join('/') } }],
        results,
        invocations: [{ executionSuccessful: true }],
      },
    ],
  };
}

/**
 * 1-based start line of each non-empty document of a YAML stream (a light scan of `---`
 * separators), or undefined when the count does not match the resources (JSON, top-level
 * arrays, pre-processed payloads).
 */
export function documentStartLines(text: string, resourceCount: number): number[] | undefined {
  const lines = text.split('\n');
  const starts: number[] = [];
  let current: number | undefined;
  const flush = () => {
    if (current !== undefined) starts.push(current);
    current = undefined;
  };
  lines.forEach((line, i) => {
    if (/^---(\s|$)/.test(line)) {
      flush();
      const rest = line.slice(3).trim();
      if (rest !== '' && !rest.startsWith('#')) current = i + 1;
      return;
    }
    if (/^\.\.\.(\s|$)/.test(line)) {
      flush();
      return;
    }
    const t = line.trim();
    if (current === undefined && t !== '' && !t.startsWith('#') && !t.startsWith('%')) current = i + 1;
  });
  flush();
  return starts.length === resourceCount ? starts : undefined;
}
