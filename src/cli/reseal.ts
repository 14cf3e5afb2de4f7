import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { SealError, isBitnamiSealedSecret, reseal, sealedKeyIds } from '../secrets/index.js';
import { EXIT_FAIL, EXIT_OK } from './exit-codes.js';
import { checkFormat, collect, detectFormat, formatDocuments, loadPrivateKeys, parseDocuments, readInput, writeOutput } from './sealing-io.js';

interface ResealOptions {
  file?: string;
  out?: string;
  inPlace?: boolean;
  format?: string;
  privateKey?: string[];
  keyDir?: string[];
  namespace?: string;
  output: string;
}

/** `syncgate reseal`: move every value to the newest key, offline, with the private keys. */
export function registerReseal(program: Command): void {
  program
    .command('reseal')
    .description('re-encrypt SealedSecret values to the newest key (values already on it stay byte-identical)')
    .option('--file <file>', 'input SealedSecret(s) (default: stdin)')
    .option('--out <file>', 'write here instead of stdout')
    .option('--in-place', 'rewrite --file')
    .option('--format <format>', 'yaml or json (default: the input\'s)')
    .option('--private-key <file>', 'a sealing private key (repeatable); the newest one seals', collect)
    .option('--key-dir <dir>', 'a directory of *.key sealing private keys (repeatable)', collect)
    .option('--namespace <ns>', 'namespace for a SealedSecret that has none')
    .option('--output <format>', 'the summary on stderr: text or json', 'text')
    .action(async (opts: ResealOptions) => {
      if (opts.output !== 'text' && opts.output !== 'json') throw new InputError('USAGE', `--output must be text or json, not ${opts.output}`);
      if (opts.inPlace && opts.file === undefined) throw new InputError('USAGE', '--in-place needs --file');
      if (opts.inPlace && opts.out !== undefined) throw new InputError('USAGE', '--in-place and --out cannot be combined');
      const keyring = await loadPrivateKeys(opts.privateKey, opts.keyDir);
      const active = keyring.active();
      const input = await readInput(opts.file);
      const docs = parseDocuments(input.bytes, input.source);
      const options = opts.namespace !== undefined ? { namespace: opts.namespace } : {};
      let changed = 0;
      let total = 0;
      const out = [];
      try {
        for (const [i, doc] of docs.entries()) {
          if (isBitnamiSealedSecret(doc)) throw new InputError('USAGE', `document ${i + 1} is a Bitnami SealedSecret: convert it with seal --from-bitnami`);
          const before = sealedKeyIds(doc, options);
          const after = reseal(doc, keyring, options);
          total += Object.keys(before).length;
          changed += Object.values(before).filter((id) => id !== active.keyId).length;
          out.push(after);
        }
      } catch (err) {
        if (err instanceof SealError) {
          process.stderr.write(`syncgate: ${err.code}: ${err.message}\n`);
          process.exitCode = EXIT_FAIL;
          return;
        }
        throw err;
      }
      const format = opts.format !== undefined ? checkFormat(opts.format) : detectFormat(input.bytes);
      await writeOutput(formatDocuments(out, format), opts.inPlace ? opts.file : opts.out);
      const summary = { keyId: active.keyId, resealed: changed, values: total };
      process.stderr.write(opts.output === 'json' ? `${JSON.stringify(summary)}\n` : `syncgate: resealed ${changed} of ${total} values to key ${active.keyId}\n`);
      process.exitCode = EXIT_OK;
    });
}
