/**
 * Loading ValidatingPolicy documents from files, directories (recursive, `*.yaml`/`*.yml`,
 * sorted) or text. Every problem is a `PolicyLoadError` naming the file, the document index and
 * the field path; one bad document fails the whole load (as upstream `scan`), so callers can keep
 * their last good set.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PolicyErrorCode, PolicyLoadError } from './errors.js';
import { CompileError } from './assertion/compile.js';
import { compilePolicy } from './compile-policy.js';
import { jmespath } from './runtime.js';
import { API_VERSION, formatIssuePath, KIND, policySchema } from './schema.js';
import { DEFAULT_BINDINGS_ANNOTATION, type LoadedPolicy } from './types.js';
import { isObject, type JsonObject, type JsonValue } from './jmespath/types.js';
import { loadYaml, loadYamlDocuments, toJsonValue } from './yaml.js';

const POLICY_EXTENSIONS = new Set(['.yaml', '.yml']);

/**
 * Layout convention: test material lives beside the policies and is never loaded as a policy
 * when a directory is walked: directories named `tests`, and files named `syncgate-test.yaml`
 * or `*.test.yaml` / `*.test.yml`. (A file named explicitly is always read.)
 */
export function isTestMaterial(name: string, isDirectory: boolean): boolean {
  if (isDirectory) return name === 'tests';
  const lower = name.toLowerCase();
  return lower === 'syncgate-test.yaml' || lower === 'syncgate-test.yml' || lower.endsWith('.test.yaml') || lower.endsWith('.test.yml');
}

function where(file: string | undefined, document?: number): string {
  const f = file ?? '<input>';
  return document === undefined ? f : `${f} (document ${document})`;
}

/** Parses, validates and compiles every document of `text`. Empty documents are skipped. */
export function parsePolicyDocuments(text: string, file?: string): LoadedPolicy[] {
  let docs: unknown[];
  try {
    docs = loadYamlDocuments(text, file);
  } catch (err) {
    const mark = (err as { mark?: { line?: number; column?: number } }).mark;
    const line = mark?.line !== undefined ? mark.line + 1 : undefined;
    throw new PolicyLoadError(
      PolicyErrorCode.PARSE_ERROR,
      `${where(file)}: invalid YAML${line !== undefined ? ` at line ${line}` : ''}: ${(err as { reason?: string }).reason ?? (err as Error).message}`,
      { ...(file !== undefined ? { file } : {}), ...(line !== undefined ? { line } : {}) },
      { cause: err },
    );
  }
  const out: LoadedPolicy[] = [];
  docs.forEach((doc, index) => {
    if (doc === null || doc === undefined) return;
    out.push(parsePolicyDocument(doc, file, index));
  });
  return out;
}

function fail(code: string, file: string | undefined, document: number, fieldPath: string, message: string, cause?: unknown): never {
  throw new PolicyLoadError(
    code,
    `${where(file, document)}${fieldPath ? ` at ${fieldPath}` : ''}: ${message}`,
    { ...(file !== undefined ? { file } : {}), document, ...(fieldPath ? { path: fieldPath } : {}) },
    cause === undefined ? undefined : { cause },
  );
}

/** Validates and compiles one parsed document. */
export function parsePolicyDocument(doc: unknown, file: string | undefined, document: number): LoadedPolicy {
  let raw;
  try {
    raw = toJsonValue(doc);
  } catch (err) {
    fail(PolicyErrorCode.PARSE_ERROR, file, document, '', (err as Error).message, err);
  }
  if (!isObject(raw)) fail(PolicyErrorCode.INVALID, file, document, '', 'a policy document must be a mapping');
  if (raw.apiVersion !== API_VERSION || raw.kind !== KIND) {
    fail(PolicyErrorCode.INVALID, file, document, '', `policy type not supported: ${String(raw.apiVersion)}/${String(raw.kind)} (expected ${API_VERSION}/${KIND})`);
  }
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const first = issues[0];
    const firstPath = first ? formatIssuePath(first.path) : '';
    const details = issues
      .slice(0, 5)
      .map((i) => {
        const p = formatIssuePath(i.path);
        return `${p || '<root>'}: ${i.message}`;
      })
      .join('; ');
    const name = isObject(raw.metadata) && typeof raw.metadata.name === 'string' ? ` policy "${raw.metadata.name}"` : '';
    fail(PolicyErrorCode.INVALID, file, document, firstPath, `invalid ValidatingPolicy${name}: ${details}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`);
  }
  const defaults = defaultBindings(parsed.data.metadata.annotations?.[DEFAULT_BINDINGS_ANNOTATION], file, document);
  try {
    const policy = compilePolicy(jmespath, parsed.data, raw as JsonObject, file, document);
    if (defaults !== undefined) policy.defaultBindings = defaults;
    return policy;
  } catch (err) {
    if (err instanceof CompileError) {
      fail(err.unsupported ? PolicyErrorCode.UNSUPPORTED : PolicyErrorCode.INVALID, file, document, err.fieldPath, `policy "${parsed.data.metadata.name}": ${err.message}`, err);
    }
    throw err;
  }
}

function defaultBindings(text: string | undefined, file: string | undefined, document: number): Record<string, JsonValue> | undefined {
  if (text === undefined) return undefined;
  const at = `metadata.annotations.${DEFAULT_BINDINGS_ANNOTATION}`;
  let value: JsonValue;
  try {
    value = toJsonValue(loadYaml(text));
  } catch (err) {
    fail(PolicyErrorCode.INVALID, file, document, at, `not a valid YAML/JSON mapping: ${(err as Error).message}`, err);
  }
  if (value === null) return {};
  if (!isObject(value)) fail(PolicyErrorCode.INVALID, file, document, at, 'must be a YAML/JSON mapping of binding names to values');
  return value;
}

/**
 * Hidden names are skipped: that includes the `..data` / `..<timestamp>` entries of a mounted
 * ConfigMap, whose visible files are symlinks into them (followed here). Anything that is not a
 * regular file or a directory (a FIFO, a socket, a device) is skipped: reading it could block.
 */
async function walk(dir: string, out: string[], depth = 0): Promise<void> {
  if (depth > 32) throw new PolicyLoadError(PolicyErrorCode.READ_ERROR, `${dir}: policy directories nested deeper than 32 levels (a symlink loop?)`, { file: dir });
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isTestMaterial(e.name, isDir)) continue;
    if (isDir) await walk(full, out, depth + 1);
    else if (isFile && POLICY_EXTENSIONS.has(path.extname(e.name).toLowerCase())) out.push(full);
  }
}

/** Expands files and directories into the list of policy files, in load order (test material skipped in directories). */
export async function policyFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch (err) {
      throw new PolicyLoadError(PolicyErrorCode.READ_ERROR, `${p}: cannot read policy path: ${(err as Error).message}`, { file: p }, { cause: err });
    }
    if (s.isDirectory()) await walk(p, files);
    else if (s.isFile()) files.push(p);
    else throw new PolicyLoadError(PolicyErrorCode.READ_ERROR, `${p}: not a regular file or directory`, { file: p });
  }
  return files;
}

/** Loads every policy under `paths` (files or directories). Throws PolicyLoadError. */
export async function loadPolicies(paths: string[]): Promise<LoadedPolicy[]> {
  const out: LoadedPolicy[] = [];
  for (const file of await policyFiles(paths)) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new PolicyLoadError(PolicyErrorCode.READ_ERROR, `${file}: cannot read policy file: ${(err as Error).message}`, { file }, { cause: err });
    }
    out.push(...parsePolicyDocuments(text, file));
  }
  return out;
}
