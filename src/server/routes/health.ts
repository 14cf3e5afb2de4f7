import express, { type Router } from 'express';
import type { AppState } from '../app.js';

/** GET /healthz (the process serves HTTP) and GET /readyz (it can decide: trust, policies and keys loaded). */
export function createHealthRouter(state: AppState): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const why = state.shuttingDown() ? 'shutting down' : state.notReady();
    if (why) res.status(503).json({ ready: false, reason: why });
    else res.json({ ready: true });
  });
  return router;
}
