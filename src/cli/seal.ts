import type { KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { InputError, SyncgateError } from '../errors.js';
import {
  type Scope,
  SCOPES,
  convertBitnamiSealedSecret,
  isBitnamiSealedSecret,
  isScope,
  mergeInto,
  parseBitnamiPrivateKeys,
  parseSealedSecret,
  sealSecret,
  sealValue,
} from '../secrets/index.js';
import { EXIT_FAIL, EXIT_OK } from './exit-codes.js';
import { type Format, checkFormat, collect, detectFormat, fetchJson, formatDocuments, isUrl, loadPublicKey, parseDocuments, readInput, writeOutput } from './sealing-io.js';

interface SealOptions {
  file?: string;
  out?: string;
  format?: string;
  key?: string;
  scope?: string;
  namespace?: string;
  allowEmpty?: boolean;
  raw?: boolean;
  name?: string;
  dataKey?: string;
  type?: string;
  fromFile?: string;
  mergeInto?: string;
  validate?: boolean;
  gate?: string;
  fromBitnami?: string;
  bitnamiKey?: string[];
  output: string;
}

function scopeOf(value: string | undefined): Scope | undefined {
  if (value === undefined) return undefined;
  if (!isScope(value)) throw new InputError('USAGE', `--scope must be one of ${SCOPES.join(', ')}, not ${value}`);
  return value;
}

/** Adds the document number to an error from a multi-document input. */
function inDocument<T>(index: number, total: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (total > 1 && err instanceof SyncgateError) throw new InputError(err.code, `document ${index + 1}: ${err.message}`, { ...err.location, document: index + 1 });
    throw err;
  }
}

function exclusive(opts: SealOptions): void {
  const modes = (['raw', 'mergeInto', 'validate', 'fromBitnami'] as const).filter((m) => opts[m] !== undefined && opts[m] !== false);
  if (modes.length > 1) throw new InputError('USAGE', `--${modes.map((m) => m.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(' and --')} cannot be combined`);
  if (!opts.raw && (opts.name !== undefined || opts.dataKey !== undefined || opts.fromFile !== undefined || opts.type !== undefined)) {
    throw new InputError('USAGE', '--name, --data-key, --type and --from-file belong to --raw');
  }
}

async function sealRaw(opts: SealOptions): Promise<void> {
  let dataKey = opts.dataKey;
  let from = opts.fromFile;
  const kv = from !== undefined && dataKey === undefined ? /^([-._a-zA-Z0-9]+)=(.+)$/.exec(from) : null;
  if (kv) [, dataKey, from] = kv;
  if (dataKey === undefined) throw new InputError('USAGE', '--raw needs --data-key KEY (or --from-file KEY=FILE): the data key is bound into the sealed value');
  if (opts.file !== undefined && from !== undefined) throw new InputError('USAGE', '--raw reads the value from --from-file or stdin, not --file');
  const publicKey = await loadPublicKey(opts.key);
  const { bytes } = await readInput(from ?? opts.file);
  try {
    const envelope = sealValue(bytes, publicKey, {
      scope: scopeOf(opts.scope) ?? 'strict',
      dataKey,
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.type !== undefined ? { type: opts.type } : {}),
    });
    await writeOutput(`${envelope}\n`, opts.out);
  } finally {
    bytes.fill(0);
  }
}

async function sealMerge(opts: SealOptions, format: Format | undefined): Promise<void> {
  const target = opts.mergeInto!;
  const existing = await readInput(target);
  const existingDocs = parseDocuments(existing.bytes, target);
  if (existingDocs.length !== 1) throw new InputError('USAGE', `--merge-into ${target}: expected one SealedSecret, found ${existingDocs.length} documents`, { file: target });
  const publicKey = await loadPublicKey(opts.key);
  const input = await readInput(opts.file);
  const docs = parseDocuments(input.bytes, input.source);
  input.bytes.fill(0);
  if (docs.length !== 1) throw new InputError('USAGE', `${input.source}: --merge-into takes one Secret, found ${docs.length} documents`);
  const merged = mergeInto(existingDocs[0], docs[0] as object, publicKey, opts.namespace !== undefined ? { namespace: opts.namespace } : {});
  await writeOutput(formatDocuments([merged], format ?? detectFormat(existing.bytes)), target);
  process.stderr.write(`syncgate: merged into ${target}\n`);
}

async function sealValidate(opts: SealOptions, outputJson: boolean): Promise<void> {
  let base = opts.gate;
  if (base === undefined && opts.key !== undefined && isUrl(opts.key)) base = opts.key.replace(/\/v1\/sealing-key\/?$/, '');
  if (base === undefined) throw new InputError('USAGE', '--validate needs --gate URL (or --key URL of the gate\'s /v1/sealing-key)');
  const url = `${base.replace(/\/+$/, '')}/v1/sealing-key/validate`;
  const input = await readInput(opts.file);
  const docs = parseDocuments(input.bytes, input.source);
  const results: { object: string; ok: boolean; failures: { dataKey: string; code: string }[] }[] = [];
  for (const [i, doc] of docs.entries()) {
    const parsed = inDocument(i, docs.length, () => parseSealedSecret(doc, opts.namespace !== undefined ? { namespace: opts.namespace } : {}));
    const object = `${parsed.namespace ?? ''}/${parsed.name}`;
    const { status, json } = await fetchJson(url, { method: 'POST', body: JSON.stringify(doc) }, 'validating');
    const answer = json as { ok?: unknown; failures?: unknown };
    if (status !== 200 || typeof answer?.ok !== 'boolean' || !Array.isArray(answer.failures)) {
      throw new InputError('GATE_BAD_ANSWER', `validating ${object}: ${url} answered HTTP ${status}${typeof (json as { code?: unknown })?.code === 'string' ? ` (${(json as { code: string }).code})` : ''}`);
    }
    const failures = (answer.failures as { dataKey?: unknown; code?: unknown }[]).map((f) => ({ dataKey: String(f.dataKey), code: String(f.code) }));
    results.push({ object, ok: answer.ok && failures.length === 0, failures });
  }
  const ok = results.every((r) => r.ok);
  if (outputJson) process.stdout.write(`${JSON.stringify(docs.length === 1 ? results[0] : { ok, results }, null, 2)}\n`);
  else {
    for (const r of results) {
      if (r.ok) process.stdout.write(`${r.object}: the gate can unseal every value\n`);
      else for (const f of r.failures) process.stdout.write(`${r.object}: data key "${f.dataKey}" cannot be unsealed: ${f.code}\n`);
    }
  }
  process.exitCode = ok ? EXIT_OK : EXIT_FAIL;
}

async function sealFromBitnami(opts: SealOptions, format: Format): Promise<void> {
  if (!opts.bitnamiKey || opts.bitnamiKey.length === 0) throw new InputError('USAGE', '--from-bitnami needs --bitnami-key FILE (the Bitnami controller\'s private key or key Secret backup)');
  const keys: KeyObject[] = [];
  for (const file of opts.bitnamiKey) keys.push(...parseBitnamiPrivateKeys((await readInput(file)).bytes.toString('utf8'), file));
  const publicKey = await loadPublicKey(opts.key);
  const input = await readInput(opts.fromBitnami);
  const docs = parseDocuments(input.bytes, input.source);
  const scope = scopeOf(opts.scope);
  const out = docs.map((doc, i) =>
    inDocument(i, docs.length, () => {
      if (!isBitnamiSealedSecret(doc)) throw new InputError('SEAL_INVALID_SEALED_SECRET', `${input.source}: not a bitnami.com/v1alpha1 SealedSecret`, { path: 'apiVersion' });
      return convertBitnamiSealedSecret(doc, keys, publicKey, { ...(scope ? { scope } : {}), ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) });
    }),
  );
  await writeOutput(formatDocuments(out, format), opts.out);
}

export function registerSeal(program: Command): void {
  program
    .command('seal')
    .description('encrypt a Secret (YAML or JSON, stdin or --file) into a SealedSecret only the cluster can open')
    .option('--file <file>', 'input Secret(s) (default: stdin)')
    .option('--out <file>', 'write here instead of stdout')
    .option('--format <format>', 'yaml or json (default yaml; --merge-into keeps the file\'s format)')
    .option('--key <file|url>', "the public key file, or the gate's URL .../v1/sealing-key")
    .option('--scope <scope>', `${SCOPES.join(' | ')} (default strict)`)
    .option('--namespace <ns>', 'namespace for a Secret that has none')
    .option('--allow-empty', 'seal a Secret with no data')
    .option('--raw', 'seal one value (stdin or --from-file) and print just the sealed value')
    .option('--name <name>', '--raw: the Secret name (strict scope)')
    .option('--data-key <key>', '--raw: the data key the value will be stored under (bound into the value)')
    .option('--type <type>', '--raw: the Secret type (bound; default Opaque)')
    .option('--from-file <[key=]file>', '--raw: read the value from this file')
    .option('--merge-into <file>', 'add or replace the input Secret\'s keys in this SealedSecret file, in place; other values stay byte-identical')
    .option('--validate', 'ask the gate whether it can unseal the input SealedSecret(s) (nothing is revealed)')
    .option('--gate <url>', '--validate: the gate\'s base URL (default: taken from --key URL)')
    .option('--from-bitnami <file>', 'convert a Bitnami SealedSecret (needs --bitnami-key)')
    .option('--bitnami-key <file>', 'Bitnami private key (PEM or key Secret backup; repeatable)', collect)
    .option('--output <format>', '--validate: text or json', 'text')
    .action(async (opts: SealOptions) => {
      if (opts.output !== 'text' && opts.output !== 'json') throw new InputError('USAGE', `--output must be text or json, not ${opts.output}`);
      exclusive(opts);
      const format = opts.format === undefined ? undefined : checkFormat(opts.format);
      if (opts.bitnamiKey && opts.fromBitnami === undefined) throw new InputError('USAGE', '--bitnami-key belongs to --from-bitnami');
      if (opts.raw) return sealRaw(opts);
      if (opts.mergeInto !== undefined) return sealMerge(opts, format);
      if (opts.validate) return sealValidate(opts, opts.output === 'json');
      if (opts.fromBitnami !== undefined) return sealFromBitnami(opts, format ?? 'yaml');

      const publicKey = await loadPublicKey(opts.key);
      const input = await readInput(opts.file);
      const docs = parseDocuments(input.bytes, input.source);
      input.bytes.fill(0);
      const scope = scopeOf(opts.scope);
      const sealed = docs.map((doc, i) =>
        inDocument(i, docs.length, () =>
          sealSecret(doc, publicKey, {
            ...(scope ? { scope } : {}),
            ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
            allowEmpty: opts.allowEmpty ?? false,
          }),
        ),
      );
      await writeOutput(formatDocuments(sealed, format ?? 'yaml'), opts.out);
      process.exitCode = EXIT_OK;
    });
}
