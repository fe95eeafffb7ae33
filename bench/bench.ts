/**
 * `npm run bench`: the built gateway (dist/main.js, every feature on: auth, request ids,
 * validation, access log, security headers) and the upstream called directly, both in front of
 * the project's fake upstream, loaded with autocannon. Prints req/s, latency percentiles, the
 * server's CPU per request and peak RSS, and the latency the gateway adds at concurrency 1.
 *
 * Layout on a multi-core machine: this process (the load) on CPU 0, gateway and upstream on CPU 1.
 * Options: --duration S (10) --warmup S (2) --connections "16,64" --modes "nonstream,stream"
 * --targets "direct,bare,fastify,cerebras,ollama" --sequential N (500) --workers N (1)
 * --log-level (info: the access log on, as in production; warn shows what it costs)
 * `bare` and `fastify` are bench/bare-relay.ts (built to dist/bench/): `node:http` or Fastify, and
 * undici, with no features; the yardsticks of what Node, and Node with our framework, allow.
 * "CPU ÷ bare" and "CPU ÷ Fastify" are a target's cost over them.
 * --baseline PATH: another build's main.js (e.g. a git worktree of an older commit), run beside
 * this one: targets `base:cerebras` and `base:ollama` are measured right after their own, so a
 * change is compared within one run, not across runs a machine's noise can tell apart.
 * --rounds N (1): every point N times, alternating, for the spread.
 * --smoke (1 s points, 16 connections). RSS and CPU of several workers are summed.
 * More targets, each on the Cerebras route: `messages` and `responses` (the Anthropic Messages and
 * OpenAI Responses APIs; compare with `cerebras`), `vkey` (a gateway with tenancy on, SQLite,
 * counters in memory, and a virtual key with request, token and USD limits that never bind) and
 * `vkey-redis` (the same with the counters in Redis at REDIS_URL_BENCH, default
 * redis://127.0.0.1:6379); compare `vkey` with `vkey-static`, a static key on the `vkey` gateway
 * (its requests go in the ledger too, so the difference is the virtual key's own cost), and
 * `vkey-redis` with `vkey-redis-static`, the same on the Redis gateway: two gateway processes
 * differ by more than that at concurrency 1, so each key is compared within its own process.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Client } from 'undici';
import { unusedPort } from '../test/helpers/unused-port.js';
import {
  hasTaskset,
  type ProcessStats,
  pin,
  processStats,
  waitForHealth,
  waitForLine,
} from './child-processes.js';
import { besidePoint, cpuOver, type Point, roundsSummary } from './rounds-summary.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '16,64' },
    modes: { type: 'string', default: 'nonstream,stream' },
    targets: { type: 'string', default: 'direct,bare,fastify,cerebras,ollama' },
    sequential: { type: 'string', default: '500' },
    smoke: { type: 'boolean', default: false },
    workers: { type: 'string', default: '1' },
    'log-level': { type: 'string', default: 'info' },
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
});
const smoke = values.smoke;
const duration = smoke ? 1 : Number(values.duration);
const warmup = smoke ? 0 : Number(values.warmup);
const connectionLevels = (smoke ? '16' : values.connections).split(',').map(Number);
const modes = values.modes.split(',') as ('nonstream' | 'stream')[];
const baselinePath = values.baseline;
const rounds = Number(values.rounds);
const ownTargets = values.targets.split(',');
// With a baseline build, each gateway target is followed by the same target on the baseline.
const targets = ownTargets.flatMap((target) =>
  baselinePath !== undefined && (target === 'cerebras' || target === 'ollama')
    ? [target, `base:${target}`]
    : [target],
);
const sequential = smoke ? 50 : Number(values.sequential);
const KEY = 'bench-key-0123456789';
const workers = Number(values.workers);

for (const built of ['dist/main.js', 'dist/bench/bare-relay.js']) {
  if (!existsSync(built)) throw new Error(`no ${built}: \`npm run bench\` builds it`);
}
if (!existsSync('/proc/self/stat')) throw new Error('the benchmark reads /proc (Linux only)');
if (hasTaskset()) execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });

const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const child of children) child.kill('SIGTERM');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const [upstreamCommand, upstreamArgs] = pin(1, process.execPath, [
  '--import',
  'tsx',
  'bench/upstream.ts',
]);
const upstream = spawn(upstreamCommand, upstreamArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
children.push(upstream);
const upstreamUrl = (await waitForLine(upstream, /ready (\S+)/))[1] ?? '';

/** Starts a yardstick relay (`node` or `fastify`) in front of the upstream; resolves to its URL. */
async function startBare(framework: string): Promise<{ url: string; pid: number }> {
  const [command, args] = pin(1, process.execPath, ['dist/bench/bare-relay.js']);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BARE_UPSTREAM_URL: upstreamUrl, BARE_FRAMEWORK: framework },
  });
  children.push(child);
  return { url: (await waitForLine(child, /ready (\S+)/))[1] ?? '', pid: child.pid ?? 0 };
}
const bare = targets.includes('bare') ? await startBare('node') : undefined;
const bareFastify = targets.includes('fastify') ? await startBare('fastify') : undefined;

const ADMIN_KEY = 'bench-admin-key-0123456789abcdef0123456789';
const benchFolder = mkdtempSync(join(tmpdir(), 'aigw-bench-'));
process.once('exit', () => rmSync(benchFolder, { recursive: true, force: true }));

/** Starts a gateway build (its main.js) in front of the upstream; resolves once healthy. */
async function startGateway(
  mainPath: string,
  extraEnv: Record<string, string> = {},
): Promise<{ url: string; pid: number }> {
  const port = await unusedPort();
  // Several workers get every CPU (the load shares them); one worker shares CPU 1 with the upstream.
  const [command, args] =
    workers > 1 ? [process.execPath, [mainPath]] : pin(1, process.execPath, [mainPath]);
  const child = spawn(command, args, {
    // The access log is on by default (info) and part of the cost measured; lines go to /dev/null.
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      ALLOWED_API_KEYS: KEY,
      OLLAMA_HOST: upstreamUrl,
      CEREBRAS_BASE_URL: `${upstreamUrl}/v1`,
      CEREBRAS_API_KEY: 'bench-provider-key',
      LOG_LEVEL: values['log-level'],
      WORKERS: String(workers),
      ...extraEnv,
    },
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/healthz`);
  return { url, pid: child.pid ?? 0 };
}

const gateway = await startGateway('dist/main.js');
const baseline = baselinePath === undefined ? undefined : await startGateway(baselinePath);

/**
 * A gateway with tenancy on and a virtual key made through its admin API, with a request, a token
 * and a USD limit far above what the bench sends: every counter is checked and settled, none binds.
 */
async function startTenancyGateway(name: string, redisUrl?: string) {
  const started = await startGateway('dist/main.js', {
    ADMIN_API_KEY: ADMIN_KEY,
    DATABASE_URL: `sqlite:${join(benchFolder, `${name}.db`)}`,
    ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl }),
  });
  const response = await fetch(`${started.url}/admin/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `bench ${name}`,
      rpm_limit: 100_000_000,
      tpm_limit: 1_000_000_000,
      budget_usd: 1_000_000,
      budget_period: 'month',
    }),
  });
  if (response.status !== 201) throw new Error(`no virtual key: ${await response.text()}`);
  const { key } = (await response.json()) as { key: string };
  return { ...started, key };
}
const virtualKey =
  targets.includes('vkey') || targets.includes('vkey-static')
    ? await startTenancyGateway('vkey')
    : undefined;
const virtualKeyRedis =
  targets.includes('vkey-redis') || targets.includes('vkey-redis-static')
    ? await startTenancyGateway(
        'vkey-redis',
        process.env.REDIS_URL_BENCH ?? 'redis://127.0.0.1:6379',
      )
    : undefined;
const pids: Record<string, number> = {
  direct: upstream.pid ?? 0,
  bare: bare?.pid ?? 0,
  fastify: bareFastify?.pid ?? 0,
  cerebras: gateway.pid,
  ollama: gateway.pid,
  'base:cerebras': baseline?.pid ?? 0,
  'base:ollama': baseline?.pid ?? 0,
  messages: gateway.pid,
  responses: gateway.pid,
  vkey: virtualKey?.pid ?? 0,
  'vkey-static': virtualKey?.pid ?? 0,
  'vkey-redis': virtualKeyRedis?.pid ?? 0,
  'vkey-redis-static': virtualKeyRedis?.pid ?? 0,
};

const urls: Record<string, string> = {
  direct: `${upstreamUrl}/v1/chat/completions`,
  bare: `${bare?.url ?? ''}/v1/chat/completions`,
  fastify: `${bareFastify?.url ?? ''}/v1/chat/completions`,
  cerebras: `${gateway.url}/cerebras/v1/chat/completions`,
  ollama: `${gateway.url}/ollama/v1/chat/completions`,
  'base:cerebras': `${baseline?.url ?? ''}/cerebras/v1/chat/completions`,
  'base:ollama': `${baseline?.url ?? ''}/ollama/v1/chat/completions`,
  messages: `${gateway.url}/cerebras/v1/messages`,
  responses: `${gateway.url}/cerebras/v1/responses`,
  vkey: `${virtualKey?.url ?? ''}/cerebras/v1/chat/completions`,
  'vkey-static': `${virtualKey?.url ?? ''}/cerebras/v1/chat/completions`,
  'vkey-redis': `${virtualKeyRedis?.url ?? ''}/cerebras/v1/chat/completions`,
  'vkey-redis-static': `${virtualKeyRedis?.url ?? ''}/cerebras/v1/chat/completions`,
};
const SYSTEM = 'You are a helpful assistant.';
const PROMPT = 'Say hello in twenty tokens, please.';
/** The same request in each API's own shape. */
const bodyFor = (mode: string, target: string) => {
  const stream = mode === 'stream';
  if (target === 'messages') {
    return JSON.stringify({
      model: 'bench-model',
      system: SYSTEM,
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 64,
      temperature: 0.2,
      stream,
    });
  }
  if (target === 'responses') {
    return JSON.stringify({
      model: 'bench-model',
      instructions: SYSTEM,
      input: PROMPT,
      max_output_tokens: 64,
      temperature: 0.2,
      stream,
    });
  }
  return JSON.stringify({
    model: 'bench-model',
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: PROMPT },
    ],
    max_tokens: 64,
    temperature: 0.2,
    stream,
  });
};
const headersFor = (target: string) => {
  const key =
    target === 'vkey' ? virtualKey?.key : target === 'vkey-redis' ? virtualKeyRedis?.key : KEY;
  return { authorization: `Bearer ${key ?? KEY}`, 'content-type': 'application/json' };
};

async function load(target: string, mode: string, connections: number, seconds: number) {
  return autocannon({
    url: urls[target] ?? '',
    method: 'POST',
    headers: headersFor(target),
    body: bodyFor(mode, target),
    connections,
    duration: seconds,
  });
}

async function measure(
  target: string,
  mode: string,
  connections: number,
  round: number,
): Promise<Point> {
  const pid = pids[target] ?? 0;
  if (warmup > 0) await load(target, mode, connections, warmup);
  const before = processStats(pid);
  let rssMaxMb = before.rssMb;
  let privateMaxMb = before.privateMb;
  const sample = (stats: ProcessStats) => {
    rssMaxMb = Math.max(rssMaxMb, stats.rssMb);
    privateMaxMb = Math.max(privateMaxMb, stats.privateMb);
  };
  const sampler = setInterval(() => sample(processStats(pid)), 200);
  const result = await load(target, mode, connections, duration);
  clearInterval(sampler);
  const after = processStats(pid);
  sample(after);
  const completed = result.requests.total;
  return {
    target,
    mode,
    connections,
    round,
    requestsPerSecond: Math.round(completed / duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuMsPerRequest: ((after.cpuSeconds - before.cpuSeconds) * 1000) / Math.max(completed, 1),
    rssMaxMb,
    privateMaxMb,
  };
}

/**
 * p50 of sequential request times in ms (concurrency 1, keep-alive) for each target, after 50
 * warm-up calls each. The targets take turns in blocks of 20 requests, so a drift of the machine's
 * speed during the run (common on shared vCPUs) weighs on every target alike instead of on
 * whichever ran last.
 */
async function sequentialP50s(
  names: readonly string[],
  mode: string,
): Promise<Map<string, number>> {
  const runners = names.map((target) => {
    const { origin, pathname } = new URL(urls[target] ?? '');
    const client = new Client(origin);
    const body = bodyFor(mode, target);
    const headers = headersFor(target);
    const times: number[] = [];
    async function run(count: number, keep: boolean): Promise<void> {
      for (let index = 0; index < count; index++) {
        const start = performance.now();
        const response = await client.request({ method: 'POST', path: pathname, headers, body });
        await response.body.text();
        if (keep) times.push(performance.now() - start);
      }
    }
    return { target, client, times, run };
  });
  for (const runner of runners) await runner.run(50, false);
  const block = 20;
  for (let done = 0; done < sequential; done += block) {
    for (const runner of runners) await runner.run(Math.min(block, sequential - done), true);
  }
  const p50s = new Map<string, number>();
  for (const { target, client, times } of runners) {
    await client.close();
    times.sort((a, b) => a - b);
    p50s.set(target, times[Math.floor(times.length / 2)] ?? Number.NaN);
  }
  return p50s;
}

const points: Point[] = [];
for (const mode of modes) {
  for (const connections of connectionLevels) {
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) points.push(await measure(target, mode, connections, round));
    }
  }
}

const fixed = (value: number, digits: number) => value.toFixed(digits);
const lines = [
  `## ai-gateway benchmark (${new Date().toISOString()}, Node ${process.version}, ${duration} s per point, ${warmup} s warm-up, ${workers} worker(s), ${rounds} round(s)${baselinePath === undefined ? '' : `, baseline ${baselinePath}`})`,
  '',
  '| target | mode | conc | req/s | ÷ direct | p50 ms | p99 ms | errors | CPU ms/req | CPU ÷ bare | CPU ÷ Fastify | RSS max MB | private max MB |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const point of points) {
  const direct = besidePoint(points, point, 'direct');
  const ratio =
    direct === undefined ? '—' : fixed(point.requestsPerSecond / direct.requestsPerSecond, 2);
  const over = (yardstick: string) => {
    const value = cpuOver(points, point, yardstick);
    return value === undefined ? '—' : fixed(value, 2);
  };
  lines.push(
    `| ${point.target} | ${point.mode} | ${point.connections} | ${point.requestsPerSecond} | ${ratio} | ${fixed(point.p50, 2)} | ${fixed(point.p99, 2)} | ${point.errors} | ${fixed(point.cpuMsPerRequest, 3)} | ${over('bare')} | ${over('fastify')} | ${fixed(point.rssMaxMb, 1)} | ${fixed(point.privateMaxMb, 1)} |`,
  );
}
lines.push(...roundsSummary(points));
lines.push('', '| target | mode | sequential p50 ms | added vs direct ms |', '|---|---|---:|---:|');
for (const mode of modes) {
  const p50s = await sequentialP50s(['direct', ...targets.filter((t) => t !== 'direct')], mode);
  const direct = p50s.get('direct') ?? Number.NaN;
  for (const target of targets) {
    const p50 = p50s.get(target) ?? Number.NaN;
    lines.push(
      `| ${target} | ${mode} | ${fixed(p50, 3)} | ${target === 'direct' ? '—' : fixed(p50 - direct, 3)} |`,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
const failed = points.some((point) => point.errors > 0);
for (const child of children) child.kill('SIGTERM');
process.exit(failed ? 1 : 0);
