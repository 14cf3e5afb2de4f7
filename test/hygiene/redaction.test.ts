/**
 * pino redaction (src/log.ts) is the second line of defence: the first is never to log secret
 * material. Each shape below is one a future log call could plausibly pass (an HTTP request, a
 * Secret or SealedSecret object, a key, a token, a kubeconfig user, an error carrying request
 * options); none may print its value.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

const VALUE = 'redact-me-5f0c9a7e1b';

function logged(obj: Record<string, unknown>): string {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      out += chunk.toString('utf8');
      done();
    },
  });
  createLogger('trace', stream).info(obj, 'event');
  return out;
}

describe('log redaction', () => {
  const shapes: Record<string, Record<string, unknown>> = {
    'req.headers.authorization': { req: { headers: { authorization: `Bearer ${VALUE}` } } },
    'headers.authorization': { headers: { authorization: `Bearer ${VALUE}` } },
    'headers.Authorization': { headers: { Authorization: `Bearer ${VALUE}` } },
    'authorization': { authorization: VALUE },
    'token': { token: VALUE },
    'user.token (kubeconfig)': { user: { token: VALUE } },
    'privateKey': { privateKey: VALUE },
    'key.privateKey': { key: { privateKey: VALUE } },
    'secret.data': { secret: { data: { password: VALUE } } },
    'secret.stringData': { secret: { stringData: { password: VALUE } } },
    'object.data (admission)': { request: { object: { data: { password: VALUE } } } },
    'sealedSecret.spec.encryptedData is ciphertext, but a Secret under manifest': { manifest: { stringData: { password: VALUE } } },
    'err.config.headers.authorization': { err: { config: { headers: { authorization: `Bearer ${VALUE}` } } } },
    'password': { password: VALUE },
    'inlineSecrets': { decision: { inlineSecrets: [{ data: { password: VALUE } }] } },
  };
  for (const [name, obj] of Object.entries(shapes)) {
    it(`redacts ${name}`, () => {
      const line = logged(obj);
      expect(line).toContain('"msg":"event"');
      expect(line).not.toContain(VALUE);
    });
  }

  it('keeps ordinary fields', () => {
    expect(logged({ decisionId: 'd-1', reasons: ['UNSIGNED'], repository: 'r' })).toContain('"decisionId":"d-1"');
  });
});
