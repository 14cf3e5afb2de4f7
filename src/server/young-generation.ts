/**
 * The young generation's size is fixed when node starts: V8 grows each semi-space up to 32 MiB
 * when the allocation rate is high (64 MiB committed for the young generation alone), and no
 * flag set at run time changes that. At 300 decisions/s the gate's peak RSS was 205-240 MiB with
 * that default and 155-165 MiB with 8 MiB semi-spaces, at no cost in CPU per decision (the
 * gate's garbage is short-lived: scavenges stay cheap), in alternated runs of bench/gate.mjs.
 * So the shipped launchers start the gate with these flags: the image's ENTRYPOINT, `npm start`
 * and the benchmark (a test keeps them equal), and `serve` says so when they are missing.
 */
import { operatorGaveFlag } from './node-flags.js';

export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** A line for the log when node was started without a young-generation size; else undefined. */
export function youngGenerationAdvice(): string | undefined {
  if (operatorGaveFlag(/^--(max-semi-space-size|max-young-generation-size)\b/)) return undefined;
  return `node was started without ${SERVE_NODE_FLAGS.join(' ')} (as the image and npm start run it): under load V8's young generation may take up to 64 MiB`;
}
