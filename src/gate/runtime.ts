import type { AuditLog } from '../audit/log.js';
import type { Config } from '../config/schema.js';
import { asSyncgateError } from '../errors.js';
import type { Logger } from '../log.js';
import { PolicyStore, type ReloadOutcome } from '../policy/policy-set.js';
import { ManifestCache, PolicyResultCache } from './manifest-cache.js';
import { createSealingRuntime, type SealingRuntime } from './sealing-runtime.js';
import { loadTrustMaterial } from './trust-material.js';
import { trustFilePaths, watchTrustFiles } from './trust-watch.js';
import type { GateDependencies, ObjectSignatureVerifier } from './types.js';

/** Retry delays for a policy set that could not be loaded at start (doubling up to the max). */
const POLICY_RETRY_FIRST_MS = 1_000;
const POLICY_RETRY_MAX_MS = 30_000;

export interface GateRuntime {
  deps: GateDependencies;
  sealing: SealingRuntime;
  /** Why the gate cannot decide yet (every sync is then denied), or undefined when ready. */
  notReady: () => string | undefined;
  /** Resolves once trust material and policies are loaded; rejects with why not. */
  ready: Promise<void>;
  close: () => Promise<void>;
}

/**
 * Assembles what the pipeline needs from the configuration: trust material, the policy store
 * (reloaded on change, a bad edit keeping the last good set) and the audit log.
 */
export function createGateRuntime(config: Config, audit: AuditLog, logger: Logger, observeStage?: (stage: string, seconds: number) => void): GateRuntime {
  let verifier: ObjectSignatureVerifier | undefined;
  let trustProblem: string | undefined = 'trust material is loading';
  const policyStore = new PolicyStore({ policies: config.policies.paths, exceptions: config.policies.exceptions });

  const sealing = createSealingRuntime(config.sealing, logger, (event) => void audit.append({ ...event, type: String(event.type) }).catch(() => {}));

  const notReady = () => {
    if (trustProblem) return trustProblem;
    const sealingProblem = sealing.notReady();
    if (sealingProblem) return sealingProblem;
    if (!policyStore.current()) {
      const e = policyStore.lastError();
      return e ? `policies could not be loaded: ${e.code}: ${e.message}` : 'policies are loading';
    }
    return undefined;
  };

  const reportPolicies = (outcome: ReloadOutcome, initial: boolean) => {
    if (outcome.ok) {
      const { policies, exceptions, generation } = outcome.set;
      logger.info({ policies: policies.length, exceptions: exceptions.length, generation }, initial ? 'policies loaded' : 'policies reloaded');
      if (!initial) void audit.append({ type: 'config.reload', what: 'policies', ok: true, policies: policies.map((p) => p.name), exceptions: exceptions.length, generation }).catch(() => {});
    } else {
      const kept = outcome.kept ? `the previous set (generation ${outcome.kept.generation}) stays in force` : 'no policy set is in force: every sync is denied';
      logger.error({ code: outcome.error.code, err: outcome.error.message, location: outcome.error.location }, `policies could not be loaded; ${kept}`);
      void audit.append({ type: 'config.reload', what: 'policies', ok: false, error: outcome.error.toJSON(), keptGeneration: outcome.kept?.generation ?? null }).catch(() => {});
    }
  };

  // Trust material is (re)built from the configuration one load at a time, in order: the initial
  // load, then one per change the watcher sees. A later load always lands after an earlier one,
  // so a slow initial load can never reinstate material a reload has already replaced.
  let trustQueue: Promise<unknown> = Promise.resolve();
  const loadTrust = (changed: string[] | undefined): Promise<void> => {
    const next = trustQueue.then(async () => {
      try {
        verifier = await loadTrustMaterial(config.trust);
        trustProblem = undefined;
        if (changed) {
          logger.info({ changed }, 'trust material reloaded');
          await audit.append({ type: 'keys.reload', what: 'trust', ok: true, changed }).catch(() => {});
        } else {
          logger.info({ keyrings: config.trust.keyrings.length, rules: config.trust.rules.length }, 'trust material loaded');
        }
      } catch (err) {
        const e = asSyncgateError(err);
        if (!verifier) trustProblem = `trust material could not be loaded: ${e.code}: ${e.message}`;
        logger.error({ code: e.code, err: e.message, ...(changed ? { changed } : {}) }, `trust material could not be ${changed ? 'reloaded' : 'loaded'}; ${verifier ? 'the previous material stays in force' : 'every sync is denied'}`);
        if (changed) await audit.append({ type: 'keys.reload', what: 'trust', ok: false, changed, error: e.toJSON() }).catch(() => {});
        else throw e;
      }
    });
    trustQueue = next.catch(() => {});
    return next;
  };
  const trustWatcher = watchTrustFiles(trustFilePaths(config.trust), (changed) => loadTrust(changed), {
    onError: (err) => logger.error({ err: String(err) }, 'trust file watch failed'),
  });

  // A policy set that cannot be loaded at start (path missing or unreadable) is retried with
  // backoff until one loads; the watch is (re)installed then, so a path that appears later is
  // watched too. One reload at a time: a read that never returns (a FIFO) is not piled on.
  let closed = false;
  let policyRetry: NodeJS.Timeout | undefined;
  const watchPolicies = () => {
    if (!config.policies.watch || closed) return;
    policyStore.close();
    policyStore.watch((o) => reportPolicies(o, false));
  };
  const retryPolicies = (delayMs: number) => {
    policyRetry = setTimeout(() => {
      if (closed || policyStore.current()) return;
      void policyStore.reload().then((outcome) => {
        if (closed) return;
        if (outcome.ok) {
          reportPolicies(outcome, false);
          watchPolicies();
        } else retryPolicies(Math.min(delayMs * 2, POLICY_RETRY_MAX_MS));
      });
    }, delayMs);
    policyRetry.unref();
  };

  const ready = (async () => {
    const policiesLoaded = policyStore.reload().then((outcome) => {
      reportPolicies(outcome, true);
      watchPolicies();
      if (!outcome.ok) {
        retryPolicies(POLICY_RETRY_FIRST_MS);
        throw outcome.error;
      }
    });
    // Handled here at once: a policy failure that comes before trust material has loaded must
    // not be an unhandled rejection (which ends the process).
    policiesLoaded.catch(() => {});
    try {
      await loadTrust(undefined);
    } catch (err) {
      await policiesLoaded.catch(() => {});
      throw err;
    }
    await policiesLoaded;
    await sealing.ready;
  })();
  ready.catch(() => {});

  const deps: GateDependencies = {
    verifier: () => verifier,
    policies: () => policyStore.current(),
    policyOptions: { modes: { defaultMode: config.policies.defaultMode, overrides: config.policies.modes }, bindings: config.policies.bindings },
    sealing,
    audit,
    limits: config.limits,
    caches: { manifests: new ManifestCache(config.limits.manifestCacheBytes), policyResults: new PolicyResultCache() },
    ...(observeStage ? { observeStage } : {}),
  };
  return {
    deps,
    sealing,
    notReady,
    ready,
    close: async () => {
      closed = true;
      clearTimeout(policyRetry);
      trustWatcher.close();
      policyStore.close();
      await sealing.close();
    },
  };
}
