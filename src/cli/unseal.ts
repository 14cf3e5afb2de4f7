import type { KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { SealError, type Secret, isBitnamiSealedSecret, parseBitnamiPrivateKeys, unsealBitnamiSealedSecret, unsealSealedSecret, type SealingKeyring } from '../secrets/index.js';
import { EXIT_FAIL, EXIT_OK } from './exit-codes.js';
import { checkFormat, collect, formatDocuments, loadPrivateKeys, parseDocuments, readInput, writeOutput } from './sealing-io.js';

interface UnsealOptions {
  file?: string;
  out?: string;
  format: string;
  privateKey?: string[];
  keyDir?: string[];
  bitnamiKey?: string[];
  namespace?: string;
}

/**
 * `syncgate unseal`: offline disaster recovery. The only command that prints plaintext, and only
 * because it is asked to; with --out the file is written mode 0600.
 */
export function registerUnseal(program: Command): void {
  program
    .command('unseal')
    .description('decrypt SealedSecrets (syncgate or Bitnami) offline with private keys and print the Secrets: PLAINTEXT')
    .option('--file <file>', 'input SealedSecret(s) (default: stdin)')
    .option('--out <file>', 'write the Secrets here (mode 0600) instead of stdout')
    .option('--format <format>', 'yaml or json', 'yaml')
    .option('--private-key <file>', 'a syncgate sealing private key (repeatable)', collect)
    .option('--key-dir <dir>', 'a directory of *.key sealing private keys (repeatable)', collect)
    .option('--bitnami-key <file>', 'a Bitnami private key, PEM or key Secret backup (repeatable)', collect)
    .option('--namespace <ns>', 'namespace for a SealedSecret that has none')
    .action(async (opts: UnsealOptions) => {
      const format = checkFormat(opts.format);
      const ours = (opts.privateKey?.length ?? 0) + (opts.keyDir?.length ?? 0) > 0;
      if (!ours && !opts.bitnamiKey?.length) throw new InputError('USAGE', 'give --private-key FILE, --key-dir DIR or --bitnami-key FILE');
      const keyring: SealingKeyring | undefined = ours ? await loadPrivateKeys(opts.privateKey, opts.keyDir) : undefined;
      const bitnamiKeys: KeyObject[] = [];
      for (const file of opts.bitnamiKey ?? []) bitnamiKeys.push(...parseBitnamiPrivateKeys((await readInput(file)).bytes.toString('utf8'), file));
      const input = await readInput(opts.file);
      const docs = parseDocuments(input.bytes, input.source);
      const options = opts.namespace !== undefined ? { namespace: opts.namespace } : {};
      const secrets: Secret[] = [];
      try {
        for (const [i, doc] of docs.entries()) {
          if (isBitnamiSealedSecret(doc)) {
            if (bitnamiKeys.length === 0) throw new InputError('USAGE', `document ${i + 1} is a Bitnami SealedSecret: give --bitnami-key FILE`);
            secrets.push(unsealBitnamiSealedSecret(doc, bitnamiKeys, options));
          } else {
            if (!keyring) throw new InputError('USAGE', `document ${i + 1} is not a Bitnami SealedSecret: give --private-key FILE or --key-dir DIR`);
            secrets.push(unsealSealedSecret(doc, keyring, options));
          }
        }
      } catch (err) {
        if (err instanceof SealError) {
          process.stderr.write(`syncgate: ${err.code}: ${err.message}\n`);
          process.exitCode = EXIT_FAIL;
          return;
        }
        throw err;
      }
      await writeOutput(formatDocuments(secrets, format), opts.out, 0o600);
      process.exitCode = EXIT_OK;
    });
}
