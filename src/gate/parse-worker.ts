/**
 * Worker thread body for ParsePool: parses a request's `manifests` YAML and walks it within the
 * limits (parseManifests), and posts back the manifests or the coded error. No other state.
 */
import { parentPort } from 'node:worker_threads';
import { InputError, asSyncgateError } from '../errors.js';
import { parseManifests, type ManifestLimits } from './manifests.js';

export interface ParseJob {
  id: number;
  text: string;
  limits: ManifestLimits;
}

parentPort?.on('message', (job: ParseJob) => {
  try {
    parentPort!.postMessage({ id: job.id, ok: true, manifests: parseManifests(job.text, job.limits) });
  } catch (err) {
    const e = asSyncgateError(err);
    parentPort!.postMessage({ id: job.id, ok: false, input: err instanceof InputError, error: e.toJSON() });
  }
});
