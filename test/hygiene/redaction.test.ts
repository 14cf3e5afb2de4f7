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

function capture(log: (logger: ReturnType<typeof createLogger>) => void): string {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      out += chunk.toString('utf8');
      done();
    },
  });
  log(createLogger('trace', stream));
  return out;
}

const logged = (obj: Record<string, unknown>): string => capture((logger) => logger.info(obj, 'event'));

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
    'a key in another case (Token, PASSWORD)': { user: { Token: VALUE }, PASSWORD: VALUE },
    'a Secret in an array of manifests': { manifests: [{ kind: 'ConfigMap' }, { kind: 'Secret', data: { key: VALUE } }] },
    'deeper than the old path list (5 levels)': { a: { b: { c: { d: { token: VALUE } } } } },
    'an object printed through its toJSON': { decision: { toJSON: () => ({ stringData: { key: VALUE } }) } },
    'an Error with request options under another key': { cause: Object.assign(new Error('boom'), { config: { headers: { Authorization: `Bearer ${VALUE}` } } }) },
  };
  for (const [name, obj] of Object.entries(shapes)) {
    it(`redacts ${name}`, () => {
      const line = logged(obj);
      expect(line).toContain('"msg":"event"');
      expect(line).not.toContain(VALUE);
    });
  }

  it('redacts inside a logged error, and keeps its message and type', () => {
    const err = Object.assign(new TypeError('the API server said no'), { config: { headers: { authorization: `Bearer ${VALUE}` } }, token: VALUE });
    for (const line of [capture((l) => l.error(err)), capture((l) => l.error({ err }, 'failed'))]) {
      expect(line).not.toContain(VALUE);
      const parsed = JSON.parse(line) as { err: { type: string; message: string; token: string; config: { headers: { authorization: string } } } };
      expect(parsed.err).toMatchObject({ type: 'TypeError', message: 'the API server said no', token: '[redacted]', config: { headers: { authorization: '[redacted]' } } });
    }
  });

  it('redacts a child logger\'s bindings', () => {
    for (const line of [
      capture((l) => l.child({ token: VALUE, req: { headers: { authorization: `Bearer ${VALUE}` } } }).info('event')),
      capture((l) => l.child({ component: 'kube' }).child({ user: { password: VALUE } }).info('event')),
    ]) {
      expect(line).toContain('"msg":"event"');
      expect(line).not.toContain(VALUE);
    }
  });

  it('prints an object met again inside itself as [Circular], without its secrets, and quickly', () => {
    const cyclic: Record<string, unknown> = { token: VALUE, name: 'n' };
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) cyclic[k] = cyclic;
    const started = performance.now();
    const line = logged({ cyclic, list: [cyclic] });
    expect(performance.now() - started).toBeLessThan(1000); // exponential before: fanout^9 visits
    expect(line).not.toContain(VALUE);
    expect(JSON.parse(line)).toMatchObject({ cyclic: { token: '[redacted]', name: 'n', a: '[Circular]' } });
  });

  it('applies toJSON once, as JSON.stringify does (one that returns its own object does not recurse)', () => {
    const self = { token: VALUE, keep: 1, toJSON(): unknown {
      return this;
    } };
    const line = logged({ self });
    expect(line).not.toContain(VALUE);
    expect(JSON.parse(line)).toMatchObject({ self: { token: '[redacted]', keep: 1 } });
  });

  it('leaves the caller\'s objects as they were', () => {
    const obj = { req: { headers: { authorization: VALUE } }, list: [{ token: VALUE }] };
    logged(obj);
    expect(obj).toEqual({ req: { headers: { authorization: VALUE } }, list: [{ token: VALUE }] });
  });

  it('keeps ordinary fields', () => {
    expect(logged({ decisionId: 'd-1', reasons: ['UNSIGNED'], repository: 'r' })).toContain('"decisionId":"d-1"');
  });
});
