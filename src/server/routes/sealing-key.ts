import express, { type Router } from 'express';
import { asSyncgateError, InputError } from '../../errors.js';
import type { SealingRuntime } from '../../gate/sealing-runtime.js';
import { SealError, SealErrorCode, checkSealedSecret, formatPublicKey } from '../../secrets/index.js';

/**
 * GET /v1/sealing-key: the active public key (what `syncgate seal --key URL` encrypts to).
 * POST /v1/sealing-key/validate: whether the gate could unseal a SealedSecret (codes only,
 * nothing about any value). Neither reveals private key material.
 */
export function createSealingKeyRouter(sealing: SealingRuntime | undefined, bodyLimitBytes: number): Router {
  const router = express.Router();

  router.get('/v1/sealing-key', (_req, res) => {
    try {
      if (!sealing?.configured) throw new SealError(SealErrorCode.NoKeys, 'the gate has no sealing keys configured');
      const key = sealing.keyring.active();
      res.json({ keyId: key.keyId, created: key.created?.toISOString() ?? null, publicKey: formatPublicKey(key) });
    } catch (err) {
      const e = asSyncgateError(err);
      res.status(503).json({ reasons: [{ code: e.code, message: e.message }] });
    }
  });

  router.post('/v1/sealing-key/validate', express.json({ limit: bodyLimitBytes }), (req, res) => {
    if (!sealing?.configured) {
      res.status(503).json({ reasons: [{ code: SealErrorCode.NoKeys, message: 'the gate has no sealing keys configured' }] });
      return;
    }
    try {
      const namespace = typeof req.query.namespace === 'string' ? req.query.namespace : undefined;
      res.json(checkSealedSecret(req.body, sealing.keyring, namespace ? { namespace } : {}));
    } catch (err) {
      const e = asSyncgateError(err);
      const status = e instanceof InputError || e instanceof SealError ? 400 : 500;
      res.status(status).json({ reasons: [{ code: e.code, message: e.message }] });
    }
  });
  return router;
}
