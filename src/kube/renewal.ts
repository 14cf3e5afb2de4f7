import { type SealingKeyring, generateSealingKey } from '../secrets/index.js';
import type { KubeClient } from './client.js';
import type { KubeError } from './errors.js';
import { keySecretManifest, keySecretName } from './key-secrets.js';

export interface RenewalOptions {
  client: KubeClient;
  /** The gate's namespace, where key Secrets live. */
  namespace: string;
  keyring: SealingKeyring;
  /** A new key is made when the newest is at least this old. */
  periodMs: number;
  /** Make a first key when the keyring is empty (default true). */
  createIfNone?: boolean;
  now?: () => Date;
}

export type RenewalResult = { renewed: false; newestKeyId: string | undefined } | { renewed: true; keyId: string; secretName: string };

/**
 * Renews the sealing key when the newest one is older than the period: generates a key, creates
 * its Secret (POST, never overwriting), then adds it to the keyring so it seals at once. Old keys
 * stay: they still open what was sealed to them. A key with no recorded creation time counts as due.
 */
export async function renewSealingKeyIfDue(options: RenewalOptions): Promise<RenewalResult> {
  const now = options.now?.() ?? new Date();
  const newest = options.keyring.keys()[0];
  if (!newest && options.createIfNone === false) return { renewed: false, newestKeyId: undefined };
  if (newest?.created && now.getTime() - newest.created.getTime() < options.periodMs) return { renewed: false, newestKeyId: newest.keyId };
  const key = generateSealingKey(now);
  await options.client.createSecret(options.namespace, keySecretManifest(key, options.namespace));
  options.keyring.add(key);
  return { renewed: true, keyId: key.keyId, secretName: keySecretName(key) };
}

export interface RenewalSchedule {
  stop(): void;
}

/**
 * Checks every `checkIntervalMs` (default: a tenth of the period, at most an hour), only while
 * `ready()` says the key source has synced (so a gate that has not yet seen its keys does not
 * make a spurious one). Failures are reported and retried at the next check.
 */
export function startKeyRenewal(
  options: RenewalOptions & { checkIntervalMs?: number; ready: () => boolean; onResult?: (r: RenewalResult) => void; onError?: (e: KubeError | Error) => void },
): RenewalSchedule {
  let running = false;
  const tick = async () => {
    if (running || !options.ready()) return;
    running = true;
    try {
      const result = await renewSealingKeyIfDue(options);
      options.onResult?.(result);
    } catch (err) {
      options.onError?.(err as Error);
    } finally {
      running = false;
    }
  };
  const every = options.checkIntervalMs ?? Math.min(Math.max(Math.floor(options.periodMs / 10), 1000), 3_600_000);
  const timer = setInterval(() => void tick(), every);
  timer.unref();
  void tick();
  return { stop: () => clearInterval(timer) };
}
