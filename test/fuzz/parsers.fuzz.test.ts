import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncgateError } from '../../src/errors.js';
import { parseManifests } from '../../src/gate/manifests.js';
import { extractSignature, parseGitObject } from '../../src/git/object.js';
import { parseArmor } from '../../src/signatures/armor.js';
import { parseDetachedSignature } from '../../src/signatures/openpgp-packets.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';

/** Every parser either returns or throws a coded SyncgateError: never another exception. */
function returnsOrCodedError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SyncgateError);
    expect((err as SyncgateError).code).toMatch(/^[A-Z][A-Z0-9_]+$/);
  }
}

const headerLine = fc.oneof(
  fc.constantFrom('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904', 'parent 4b825dc642cb6eb9a060e54bf8d69288fbee4904', 'author A <a@x> 1 +0000', 'committer A <a@x> 1 +0000', 'gpgsig -----BEGIN PGP SIGNATURE-----', ' ', ' =abcd', ' -----END PGP SIGNATURE-----', 'encoding UTF-8', 'mergetag object x', 'object 4b825dc642cb6eb9a060e54bf8d69288fbee4904', 'type commit', 'tag v1', 'tagger T <t@x> 1 +0000', ''),
  fc.string({ maxLength: 80 }),
);
/** Git-object-shaped text: plausible header lines, a blank line, a body. */
const objectLike = fc.tuple(fc.array(headerLine, { maxLength: 12 }), fc.string({ maxLength: 200 })).map(([h, body]) => Buffer.from(`${h.join('\n')}\n\n${body}`));
const anyBytes = fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a));

describe('parsers never fail other than with a coded error', () => {
  it(
    'git commit and tag objects',
    () => {
      fc.assert(
        fc.property(fc.oneof(objectLike, anyBytes), fc.constantFrom('commit' as const, 'tag' as const), (raw, kind) => {
          returnsOrCodedError(() => extractSignature(parseGitObject(raw, kind)));
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'ASCII armor',
    () => {
      const armorLike = fc
        .tuple(fc.constantFrom('PGP SIGNATURE', 'SSH SIGNATURE', 'SIGNED MESSAGE', 'PGP MESSAGE'), fc.array(fc.oneof(fc.base64String({ maxLength: 76 }), fc.string({ maxLength: 40 })), { maxLength: 8 }))
        .map(([label, lines]) => `-----BEGIN ${label}-----\n\n${lines.join('\n')}\n-----END ${label}-----\n`);
      fc.assert(
        fc.property(fc.oneof(armorLike, fc.string({ maxLength: 600 })), (text) => returnsOrCodedError(() => parseArmor(text, { allowTrailingEmptyLine: true }))),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'OpenPGP signature packets',
    () => {
      const packetLike = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 600 })).map(([tag, body]) => Uint8Array.from([tag, body.length & 0xff, ...body]));
      fc.assert(
        fc.property(fc.oneof(packetLike, fc.uint8Array({ maxLength: 1200 })), (bytes) => returnsOrCodedError(() => parseDetachedSignature(bytes))),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'YAML and JSON manifests, including anchors, aliases and deep nesting, within a time bound',
    () => {
      const limits = { manifests: 1000, manifestNodes: 100_000, manifestDepth: 64 };
      const yamlish = fc.array(
        fc.oneof(
          fc.constantFrom('---', 'apiVersion: v1', 'kind: Pod', 'metadata: {name: x}', 'a: &a [1,2,3]', 'b: [*a,*a,*a]', 'c: *a', 'kind: Pod\nkind: Svc', '  - x', '{', '[[[[[[', '? complex', '!!binary aGk=', '"\\u0000"'),
          fc.string({ maxLength: 60 }),
        ),
        { maxLength: 20 },
      );
      fc.assert(
        fc.property(fc.oneof(yamlish.map((l) => l.join('\n')), fc.jsonValue()), (input) => {
          const start = performance.now();
          returnsOrCodedError(() => parseManifests(input, limits));
          expect(performance.now() - start).toBeLessThan(2_000);
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
