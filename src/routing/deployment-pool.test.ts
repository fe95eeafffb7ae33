import { describe, expect, it } from 'vitest';
import type { CooldownPolicy, DeploymentConfig, ModelConfig } from '../config/gateway-config.js';
import { type Candidate, createDeploymentPool, type DeploymentPool } from './deployment-pool.js';

function deployment(model: string, weight = 1, maxConcurrent?: number): DeploymentConfig {
  return {
    provider: 'p',
    model,
    weight,
    ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
  };
}

function model(
  name: string,
  deployments: DeploymentConfig[],
  fallbacks: string[] = [],
  aliases: string[] = [],
): ModelConfig {
  return { name, aliases, deployments, fallbacks };
}

const cooldown: CooldownPolicy = { failureThreshold: 3, cooldownMs: 1_000 };

function setup(models: ModelConfig[]) {
  let time = 0;
  const pool = createDeploymentPool({ models, cooldown, now: () => time });
  return {
    pool,
    advance(ms: number) {
      time += ms;
    },
  };
}

const keys = (plan: readonly Candidate[]) => plan.map((candidate) => candidate.key);
const firstPicks = (pool: DeploymentPool, name: string, count: number) =>
  Array.from({ length: count }, () => pool.plan(name)[0]?.deployment.model);

function candidate(pool: DeploymentPool, name: string, key: string): Candidate {
  const found = pool.plan(name).find((item) => item.key === key);
  if (found === undefined) throw new Error(`${key} is not in the plan of ${name}`);
  return found;
}

function fail(pool: DeploymentPool, target: Candidate, times: number) {
  for (let index = 0; index < times; index += 1) pool.recordFailure(target);
}

describe('smooth weighted round-robin', () => {
  it('3:1 over 8 picks gives exactly 6:2, interleaved', () => {
    const { pool } = setup([model('m', [deployment('a', 3), deployment('b', 1)])]);
    expect(firstPicks(pool, 'm', 8)).toEqual(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
  });

  it('1:1:1 rotates', () => {
    const { pool } = setup([model('m', [deployment('a'), deployment('b'), deployment('c')])]);
    expect(firstPicks(pool, 'm', 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('5:1:1 matches nginx (a a b a c a a), period after period', () => {
    const { pool } = setup([
      model('m', [deployment('a', 5), deployment('b', 1), deployment('c', 1)]),
    ]);
    const period = ['a', 'a', 'b', 'a', 'c', 'a', 'a'];
    expect(firstPicks(pool, 'm', 14)).toEqual([...period, ...period]);
  });

  it('orders the others by weight after the pick, ties in config order', () => {
    const { pool } = setup([
      model('m', [deployment('a', 1), deployment('b', 3), deployment('c', 2), deployment('d', 2)]),
    ]);
    expect(keys(pool.plan('m'))).toEqual(['p/b', 'p/c', 'p/d', 'p/a']);
    expect(keys(pool.plan('m'))).toEqual(['p/c', 'p/b', 'p/d', 'p/a']);
  });

  it('never picks a weight-0 deployment first but keeps it as a last resort', () => {
    const { pool } = setup([model('m', [deployment('backup', 0), deployment('a', 1)])]);
    expect(keys(pool.plan('m'))).toEqual(['p/a', 'p/backup']);
    expect(keys(pool.plan('m'))).toEqual(['p/a', 'p/backup']);
  });

  it('leaves a cooling deployment out of the rotation and keeps the rest smooth', () => {
    const { pool } = setup([model('m', [deployment('a'), deployment('b'), deployment('c')])]);
    // Built by hand: planning to find it would advance the rotation.
    fail(pool, { model: 'm', deployment: deployment('b'), key: 'p/b' }, 3);
    expect(firstPicks(pool, 'm', 4)).toEqual(['a', 'c', 'a', 'c']);
  });
});

describe('resolve and publicNames', () => {
  const chat = model('chat', [deployment('llama')], [], ['default', 'fast']);
  const code = model('code', [deployment('coder')]);

  it('resolves names and aliases to the same config; unknown → undefined and an empty plan', () => {
    const { pool } = setup([chat, code]);
    expect(pool.resolve('chat')).toBe(chat);
    expect(pool.resolve('fast')).toBe(chat);
    expect(pool.resolve('code')).toBe(code);
    expect(pool.resolve('p/llama')).toBeUndefined();
    expect(pool.resolve('nope')).toBeUndefined();
    expect(pool.plan('nope')).toEqual([]);
  });

  it('plans an alias under its public model name', () => {
    const { pool } = setup([chat]);
    expect(pool.plan('default')).toEqual([
      { model: 'chat', deployment: deployment('llama'), key: 'p/llama' },
    ]);
  });

  it('lists every name, then its aliases, in config order; a duplicate keeps the first', () => {
    const { pool } = setup([chat, code, model('fast', [deployment('other')])]);
    expect(pool.publicNames().map(({ id, model }) => [id, model.name])).toEqual([
      ['chat', 'chat'],
      ['default', 'chat'],
      ['fast', 'chat'],
      ['code', 'code'],
    ]);
  });
});

describe('fallbacks', () => {
  it('follows the requested model, its own fallbacks in order, then theirs', () => {
    const { pool } = setup([
      model('a', [deployment('a1')], ['b', 'c']),
      model('b', [deployment('b1')], ['d']),
      model('c', [deployment('c1')]),
      model('d', [deployment('d1')]),
    ]);
    expect(pool.plan('a').map((item) => [item.model, item.key])).toEqual([
      ['a', 'p/a1'],
      ['b', 'p/b1'],
      ['c', 'p/c1'],
      ['d', 'p/d1'],
    ]);
  });

  it('survives cycles, self-references, aliases of visited models and unknown names', () => {
    const { pool } = setup([
      model('a', [deployment('a1')], ['a', 'b', 'ghost'], ['alias-a']),
      model('b', [deployment('b1')], ['alias-a', 'a']),
    ]);
    expect(keys(pool.plan('a'))).toEqual(['p/a1', 'p/b1']);
    expect(keys(pool.plan('b'))).toEqual(['p/b1', 'p/a1']);
  });

  it('never repeats a deployment shared between models', () => {
    const { pool } = setup([
      model('a', [deployment('shared'), deployment('a1')], ['b']),
      model('b', [deployment('shared'), deployment('b1')]),
    ]);
    expect(keys(pool.plan('a'))).toEqual(['p/shared', 'p/a1', 'p/b1']);
  });
});

describe('cooldown', () => {
  const models = [model('m', [deployment('a', 2), deployment('b', 1)])];

  it('opens after exactly N consecutive failures, not N-1', () => {
    const { pool } = setup(models);
    const a = candidate(pool, 'm', 'p/a');
    fail(pool, a, 2);
    expect(pool.state(a)).toBe('healthy');
    expect(keys(pool.plan('m'))).toContain('p/a');
    pool.recordFailure(a);
    expect(pool.state(a)).toBe('cooling');
    expect(keys(pool.plan('m'))).toEqual(['p/b']);
  });

  it('a success in between resets the count', () => {
    const { pool } = setup(models);
    const a = candidate(pool, 'm', 'p/a');
    fail(pool, a, 2);
    pool.recordSuccess(a);
    fail(pool, a, 2);
    expect(pool.state(a)).toBe('healthy');
    pool.recordFailure(a);
    expect(pool.state(a)).toBe('cooling');
  });

  it('after cooldownMs hands exactly one plan a half-open probe, placed first', () => {
    const { pool, advance } = setup(models);
    fail(pool, candidate(pool, 'm', 'p/a'), 3);
    advance(999);
    expect(keys(pool.plan('m'))).toEqual(['p/b']);
    advance(1);
    const probing = pool.plan('m');
    expect(keys(probing)).toEqual(['p/a', 'p/b']);
    expect(pool.state(probing[0] as Candidate)).toBe('probing');
    expect(keys(pool.plan('m'))).toEqual(['p/b']);
  });

  it('a successful probe closes the breaker', () => {
    const { pool, advance } = setup(models);
    fail(pool, candidate(pool, 'm', 'p/a'), 3);
    advance(1_000);
    const probe = pool.plan('m')[0] as Candidate;
    expect(pool.acquire(probe)).toBe(true);
    pool.recordSuccess(probe);
    pool.release(probe);
    expect(pool.state(probe)).toBe('healthy');
    expect(keys(pool.plan('m')).sort()).toEqual(['p/a', 'p/b']);
    pool.recordFailure(probe);
    expect(pool.state(probe)).toBe('healthy');
  });

  it('a failed probe re-opens the breaker for another full period', () => {
    const { pool, advance } = setup(models);
    fail(pool, candidate(pool, 'm', 'p/a'), 3);
    advance(1_500);
    const probe = pool.plan('m')[0] as Candidate;
    expect(pool.acquire(probe)).toBe(true);
    pool.recordFailure(probe);
    pool.release(probe);
    expect(pool.state(probe)).toBe('cooling');
    advance(999);
    expect(keys(pool.plan('m'))).toEqual(['p/b']);
    advance(1);
    expect(keys(pool.plan('m'))).toEqual(['p/a', 'p/b']);
  });

  it('a probe released without a verdict lets the next plan probe again', () => {
    const { pool, advance } = setup(models);
    fail(pool, candidate(pool, 'm', 'p/a'), 3);
    advance(1_000);
    const probe = pool.plan('m')[0] as Candidate;
    expect(pool.acquire(probe)).toBe(true);
    advance(5_000);
    expect(pool.state(probe)).toBe('probing');
    expect(keys(pool.plan('m'))).toEqual(['p/b']);
    pool.release(probe);
    expect(pool.state(probe)).toBe('cooling');
    expect(keys(pool.plan('m'))).toEqual(['p/a', 'p/b']);
  });

  it('a release from a stale plan does not end the owner’s probe', () => {
    const { pool, advance } = setup(models);
    const stale = candidate(pool, 'm', 'p/a');
    fail(pool, stale, 3);
    advance(1_000);
    const probe = pool.plan('m')[0] as Candidate;
    expect(probe).not.toBe(stale);
    expect(pool.acquire(stale)).toBe(true);
    pool.release(stale);
    expect(pool.state(probe)).toBe('probing');
    expect(keys(pool.plan('m'))).toEqual(['p/b']);
  });

  it('a probe granted but never acquired lapses after another cooldown period', () => {
    const { pool, advance } = setup(models);
    fail(pool, candidate(pool, 'm', 'p/a'), 3);
    advance(1_000);
    expect(keys(pool.plan('m'))).toEqual(['p/a', 'p/b']);
    advance(999);
    expect(keys(pool.plan('m'))).toEqual(['p/b']);
    advance(1);
    expect(keys(pool.plan('m'))).toEqual(['p/a', 'p/b']);
  });

  it('grants at most one probe per plan', () => {
    const { pool, advance } = setup([
      model('m', [deployment('a'), deployment('b'), deployment('c')]),
    ]);
    fail(pool, candidate(pool, 'm', 'p/a'), 3);
    fail(pool, candidate(pool, 'm', 'p/b'), 3);
    advance(1_000);
    expect(keys(pool.plan('m'))).toEqual(['p/a', 'p/c']);
    expect(keys(pool.plan('m'))).toEqual(['p/b', 'p/c']);
    expect(keys(pool.plan('m'))).toEqual(['p/c']);
  });

  it('with everything cooling still plans every deployment, least recently failed first', () => {
    const { pool, advance } = setup([
      model('m', [deployment('a'), deployment('b')], ['f']),
      model('f', [deployment('c')]),
    ]);
    const [a, b, c] = ['p/a', 'p/b', 'p/c'].map((key) => candidate(pool, 'm', key));
    fail(pool, b as Candidate, 3);
    advance(10);
    fail(pool, c as Candidate, 3);
    advance(10);
    fail(pool, a as Candidate, 3);
    advance(10);
    const plan = pool.plan('m');
    expect(plan.map((item) => [item.model, item.key])).toEqual([
      ['m', 'p/b'],
      ['f', 'p/c'],
      ['m', 'p/a'],
    ]);
    expect(plan.map((item) => pool.state(item))).toEqual(['cooling', 'cooling', 'cooling']);
    expect(pool.acquire(plan[0] as Candidate)).toBe(true);
  });

  it('shares health between models that use the same deployment', () => {
    const { pool } = setup([
      model('a', [deployment('shared'), deployment('a1')]),
      model('b', [deployment('shared'), deployment('b1')]),
    ]);
    fail(pool, candidate(pool, 'a', 'p/shared'), 3);
    expect(keys(pool.plan('b'))).toEqual(['p/b1']);
  });
});

describe('max_concurrent', () => {
  it('acquire is false at the cap and a release frees a slot', () => {
    const { pool } = setup([model('m', [deployment('a', 1, 2)])]);
    const a = candidate(pool, 'm', 'p/a');
    expect(pool.acquire(a)).toBe(true);
    expect(pool.acquire(a)).toBe(true);
    expect(pool.acquire(a)).toBe(false);
    pool.release(a);
    expect(pool.acquire(a)).toBe(true);
    expect(pool.acquire(a)).toBe(false);
  });

  it('never counts more releases than acquires', () => {
    const { pool } = setup([model('m', [deployment('a', 1, 1)])]);
    const a = candidate(pool, 'm', 'p/a');
    pool.release(a);
    pool.release(a);
    expect(pool.acquire(a)).toBe(true);
    expect(pool.acquire(a)).toBe(false);
  });

  it('puts a saturated deployment last in its model, before the fallbacks, out of the rotation', () => {
    const { pool } = setup([
      model('m', [deployment('a', 3, 1), deployment('b', 1)], ['f']),
      model('f', [deployment('c')]),
    ]);
    const a = candidate(pool, 'm', 'p/a');
    expect(pool.acquire(a)).toBe(true);
    expect(keys(pool.plan('m'))).toEqual(['p/b', 'p/a', 'p/c']);
    expect(keys(pool.plan('m'))).toEqual(['p/b', 'p/a', 'p/c']);
    pool.release(a);
    expect(pool.state(a)).toBe('healthy');
    expect(keys(pool.plan('m'))[0]).toBe('p/a');
  });

  it('leaves deployments without a cap unlimited', () => {
    const { pool } = setup([model('m', [deployment('a')])]);
    const a = candidate(pool, 'm', 'p/a');
    for (let index = 0; index < 1_000; index += 1) expect(pool.acquire(a)).toBe(true);
  });
});

describe('snapshot', () => {
  it('lists each deployment once with the models that share it, its slots and its breaker', () => {
    const shared = deployment('s', 1, 1);
    const { pool, advance } = setup([
      model('m', [deployment('a', 2), shared]),
      model('n', [shared]),
    ]);
    const s = candidate(pool, 'n', 'p/s');
    expect(pool.acquire(s)).toBe(true);
    const a = candidate(pool, 'm', 'p/a');
    advance(10);
    fail(pool, a, 3);
    expect(pool.snapshot()).toEqual([
      {
        key: 'p/a',
        provider: 'p',
        model: 'a',
        publicModels: ['m'],
        weight: 2,
        maxConcurrent: undefined,
        state: 'cooling',
        inFlight: 0,
        consecutiveFailures: 3,
        coolingUntil: 1_010,
      },
      {
        key: 'p/s',
        provider: 'p',
        model: 's',
        publicModels: ['m', 'n'],
        weight: 1,
        maxConcurrent: 1,
        state: 'healthy',
        inFlight: 1,
        consecutiveFailures: 0,
        coolingUntil: undefined,
      },
    ]);
  });
});
