import type { Command } from 'commander';
import { generateSigningKey } from '../audit/checkpoint.js';
import { checkOutput } from './audit-common.js';
import { EXIT_OK } from './exit-codes.js';

export function registerAuditKeygen(audit: Command): void {
  audit
    .command('keygen')
    .description('create an Ed25519 key pair for signing audit checkpoints (DIR/audit-signing.key and .pub)')
    .requiredOption('--out <dir>', 'directory to write the key pair to (created 0700; existing keys are never overwritten)')
    .option('--output <format>', 'text or json', 'text')
    .action(async (opts: { out: string; output: string }) => {
      const output = checkOutput(opts.output);
      const result = await generateSigningKey(opts.out);
      if (output === 'json') {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        process.stdout.write(
          [
            `private key: ${result.privateKeyFile} (mode 0600: keep it with the gate only)`,
            `public key:  ${result.publicKeyFile} (give it to whoever verifies the log)`,
            `key id:      ${result.keyId}`,
            'configure:   audit.checkpoints.keyFile: <the private key path>',
            '',
          ].join('\n'),
        );
      }
      process.exitCode = EXIT_OK;
    });
}
