import type { CooldownPolicy, DeploymentConfig, ModelConfig } from '../config/gateway-config.js';

/** One deployment to attempt for a request, under the public model it serves. */
export interface Candidate {
  /** The public model name (never an alias) whose deployment this is. */
  readonly model: string;
  readonly deployment: DeploymentConfig;
  /** `${provider}/${model}`: the deployment's stable id; health is shared across models. */
  readonly key: string;
}

/**
 * A deployment's breaker: `healthy` (closed); `cooling` (open: skipped until its cooldown
 * expired and then until a probe is handed out); `probing` (half-open: one request holds the probe).
 */
export type DeploymentState = 'healthy' | 'cooling' | 'probing';

/** A deployment as the admin API shows it: its config and its live state in this process. */
export interface DeploymentSnapshot {
  /** `provider/model`. */
  readonly key: string;
  readonly provider: string;
  readonly model: string;
  /** Every public model that lists it, in config order. */
  readonly publicModels: readonly string[];
  readonly weight: number;
  readonly maxConcurrent: number | undefined;
  readonly state: DeploymentState;
  readonly inFlight: number;
  readonly consecutiveFailures: number;
  /** When a cooling deployment may be probed again (epoch ms); undefined while healthy. */
  readonly coolingUntil: number | undefined;
}

export interface DeploymentPoolOptions {
  readonly models: readonly ModelConfig[];
  readonly cooldown: CooldownPolicy;
  /** Milliseconds; injected so cooldown timing is testable. */
  readonly now: () => number;
}

/** Model resolution, load balancing, concurrency caps and cooldown for the routing executor. */
export interface DeploymentPool {
  /** The public model (or alias) → its config, or undefined. */
  resolve(nameOrAlias: string): ModelConfig | undefined;
  /** Every public name, then its aliases, in config order (for /v1/models). */
  publicNames(): readonly { id: string; model: ModelConfig }[];
  /**
   * Ordered attempts for one request, [] for an unknown name. Per model, the model first, then its
   * fallbacks breadth-first (the requested model's own list in its order, then theirs), each
   * model once and each deployment once (cycles and shared deployments are safe):
   * 1. at most one half-open probe per plan: a deployment whose cooldown expired, granted to
   *    this plan only (a concurrent plan leaves it out) and tried first so that it is tried;
   * 2. the smooth weighted round-robin pick among healthy deployments under their cap;
   * 3. the other healthy deployments under their cap, by weight (highest first, then config order);
   * 4. healthy deployments at `maxConcurrent`, by weight: kept, not skipped, since a slot may free
   *    up before the executor reaches them; `acquire` is the real gate.
   * Cooling deployments are left out; if that leaves nothing at all, every deployment of the
   * chain is returned, least recently failed first, so the client gets a real upstream error.
   */
  plan(nameOrAlias: string): readonly Candidate[];
  /**
   * The configured deployment `provider/model` as a candidate (under the first public model that
   * lists it), whatever its state, so a pinned request shares its caps and breaker; undefined
   * when no public model is served there.
   */
  deployment(provider: string, model: string): Candidate | undefined;
  /** Takes an in-flight slot; false when the deployment is at `maxConcurrent` (try the next). */
  acquire(candidate: Candidate): boolean;
  /**
   * Frees the slot; exactly once per successful acquire. A probe that ends without a verdict
   * (the request caused the error, the client left) is returned, so the next plan probes again.
   */
  release(candidate: Candidate): void;
  /** Resets the consecutive failures and closes the breaker (a probe's success included). */
  recordSuccess(candidate: Candidate): void;
  /**
   * Counts a failure; call it only when `countsAgainstDeployment(error)`. The threshold-th
   * consecutive failure, or a failed probe, opens the breaker for a full `cooldownMs` from now.
   */
  recordFailure(candidate: Candidate): void;
  /** For tests and metrics. */
  state(candidate: Candidate): DeploymentState;
  /** Every configured deployment, once, in config order, as it stands now. */
  snapshot(): readonly DeploymentSnapshot[];
}

interface Probe {
  /** The candidate object handed to one plan: identity tells its owner from stale plans. */
  readonly owner: Candidate;
  readonly grantedAt: number;
  acquired: boolean;
}

interface Health {
  inFlight: number;
  failures: number;
  /** When the breaker opened; undefined while healthy. */
  openedAt: number | undefined;
  lastFailureAt: number;
  probe: Probe | undefined;
}

/** Builds the pool; all state lives in the returned object (one per app). */
export function createDeploymentPool(options: DeploymentPoolOptions): DeploymentPool {
  const { models, now } = options;
  const threshold = Math.max(1, options.cooldown.failureThreshold);
  const { cooldownMs } = options.cooldown;
  const byName = new Map<string, ModelConfig>();
  const names: { id: string; model: ModelConfig }[] = [];
  for (const model of models) {
    for (const id of [model.name, ...model.aliases]) {
      if (byName.has(id)) continue; // config validation reports duplicates; first one wins
      byName.set(id, model);
      names.push({ id, model });
    }
  }
  const byKey = new Map<string, { model: string; deployment: DeploymentConfig }>();
  for (const model of models) {
    for (const deployment of model.deployments) {
      const key = `${deployment.provider}/${deployment.model}`;
      if (!byKey.has(key)) byKey.set(key, { model: model.name, deployment });
    }
  }
  const health = new Map<string, Health>();
  const currentWeights = new Map<string, number[]>();

  const healthOf = (key: string): Health => {
    let entry = health.get(key);
    if (entry === undefined) {
      entry = { inFlight: 0, failures: 0, openedAt: undefined, lastFailureAt: 0, probe: undefined };
      health.set(key, entry);
    }
    return entry;
  };

  /**
   * Drops a probe that was granted but never acquired within a cooldown period (its request was
   * served by an earlier candidate or gave up), so one lost grant cannot block recovery forever.
   */
  const liveProbe = (entry: Health): Probe | undefined => {
    const probe = entry.probe;
    if (probe !== undefined && !probe.acquired && now() - probe.grantedAt >= cooldownMs) {
      entry.probe = undefined;
    }
    return entry.probe;
  };

  const stateOf = (entry: Health): DeploymentState => {
    if (entry.openedAt === undefined) return 'healthy';
    return liveProbe(entry) === undefined ? 'cooling' : 'probing';
  };

  const atCap = (entry: Health, deployment: DeploymentConfig): boolean =>
    deployment.maxConcurrent !== undefined && entry.inFlight >= deployment.maxConcurrent;

  /** The requested model, then its fallbacks breadth-first; unknown names and repeats skipped. */
  const chainOf = (root: ModelConfig): ModelConfig[] => {
    const chain = [root];
    const visited = new Set([root.name]);
    for (let index = 0; index < chain.length; index += 1) {
      for (const name of chain[index]?.fallbacks ?? []) {
        const model = byName.get(name);
        if (model === undefined || visited.has(model.name)) continue;
        visited.add(model.name);
        chain.push(model);
      }
    }
    return chain;
  };

  return {
    resolve: (nameOrAlias) => byName.get(nameOrAlias),
    publicNames: () => names,

    plan(nameOrAlias) {
      const root = byName.get(nameOrAlias);
      if (root === undefined) return [];
      const seen = new Set<string>();
      const planned: Candidate[] = [];
      const cooling: Candidate[] = [];
      let probeGranted = false;
      for (const model of chainOf(root)) {
        let probe: Candidate | undefined;
        const ready: { candidate: Candidate; index: number }[] = [];
        const saturated: Candidate[] = [];
        for (const [index, deployment] of model.deployments.entries()) {
          const key = `${deployment.provider}/${deployment.model}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const candidate: Candidate = { model: model.name, deployment, key };
          const entry = healthOf(key);
          const state = stateOf(entry);
          if (state === 'healthy') {
            if (atCap(entry, deployment)) saturated.push(candidate);
            else ready.push({ candidate, index });
          } else if (
            state === 'cooling' &&
            !probeGranted &&
            now() - (entry.openedAt ?? 0) >= cooldownMs
          ) {
            entry.probe = { owner: candidate, grantedAt: now(), acquired: false };
            probeGranted = true;
            probe = candidate;
          } else {
            cooling.push(candidate);
          }
        }
        const weights = currentWeights.get(model.name) ?? model.deployments.map(() => 0);
        currentWeights.set(model.name, weights);
        const picked = smoothWeightedPick(weights, ready);
        const rest = ready.filter((item) => item.index !== picked).map((item) => item.candidate);
        const pickedCandidate = ready.find((item) => item.index === picked)?.candidate;
        if (probe !== undefined) planned.push(probe);
        if (pickedCandidate !== undefined) planned.push(pickedCandidate);
        planned.push(...byWeight(rest), ...byWeight(saturated));
      }
      if (planned.length > 0) return planned;
      return cooling.sort((a, b) => healthOf(a.key).lastFailureAt - healthOf(b.key).lastFailureAt);
    },

    deployment(provider, model) {
      const key = `${provider}/${model}`;
      const found = byKey.get(key);
      // A fresh object per request, as plan() hands out: probe ownership goes by identity.
      return found === undefined ? undefined : { ...found, key };
    },

    acquire(candidate) {
      const entry = healthOf(candidate.key);
      if (atCap(entry, candidate.deployment)) return false;
      entry.inFlight += 1;
      if (entry.probe?.owner === candidate) entry.probe.acquired = true;
      return true;
    },

    release(candidate) {
      const entry = healthOf(candidate.key);
      // Clamped: a double release must not hand out a phantom slot, nor throw in a finally.
      entry.inFlight = Math.max(0, entry.inFlight - 1);
      if (entry.probe?.owner === candidate) entry.probe = undefined;
    },

    recordSuccess(candidate) {
      const entry = healthOf(candidate.key);
      entry.failures = 0;
      entry.openedAt = undefined;
      entry.probe = undefined;
    },

    recordFailure(candidate) {
      const entry = healthOf(candidate.key);
      entry.failures += 1;
      entry.lastFailureAt = now();
      // A failure while open (the probe, or a request planned before it opened) keeps the count
      // at or above the threshold, so it re-opens for a full period from now.
      if (entry.failures >= threshold) {
        entry.openedAt = now();
        entry.probe = undefined;
      }
    },

    state: (candidate) => stateOf(healthOf(candidate.key)),

    snapshot: () =>
      [...byKey].map(([key, { deployment }]) => {
        const entry = healthOf(key);
        return {
          key,
          provider: deployment.provider,
          model: deployment.model,
          publicModels: models
            .filter((model) =>
              model.deployments.some((listed) => `${listed.provider}/${listed.model}` === key),
            )
            .map((model) => model.name),
          weight: deployment.weight,
          maxConcurrent: deployment.maxConcurrent,
          state: stateOf(entry),
          inFlight: entry.inFlight,
          consecutiveFailures: entry.failures,
          coolingUntil: entry.openedAt === undefined ? undefined : entry.openedAt + cooldownMs,
        };
      }),
  };
}

/**
 * nginx's smooth weighted round-robin: every eligible entry gains its weight, the largest current
 * weight wins (the first on a tie) and loses the total. Deterministic, and spreads picks evenly
 * (3:1 → a a b a). Entries of weight ≤ 0 are never picked. Returns the winner's index.
 */
function smoothWeightedPick(
  current: number[],
  entries: readonly { candidate: Candidate; index: number }[],
): number | undefined {
  let total = 0;
  let best: number | undefined;
  for (const { candidate, index } of entries) {
    const weight = candidate.deployment.weight;
    if (!(weight > 0)) continue;
    current[index] = (current[index] ?? 0) + weight;
    total += weight;
    if (best === undefined || (current[index] ?? 0) > (current[best] ?? 0)) best = index;
  }
  if (best !== undefined) current[best] = (current[best] ?? 0) - total;
  return best;
}

/** Highest weight first; Array.prototype.sort is stable, so ties keep config order. */
function byWeight(candidates: Candidate[]): Candidate[] {
  return candidates.sort((a, b) => b.deployment.weight - a.deployment.weight);
}
