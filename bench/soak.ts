/**
 * `npm run soak -- --minutes N --aborts N`: issue 5's soak-and-leak run. Starts the fake upstream
 * (bench/soak-upstream.ts: paced streams, scripted 500/429, slow first bytes) and the built gateway
 * (dist/main.js, metrics on their own port) as children, drives a mixed load with a fixed number of
 * clients for N minutes, sampling the gateway's memory, handles and sockets and the upstream's
 * connections every few seconds, then an abort storm (streams aborted on their first chunk), then
 * checks that nothing stayed open. Prints Markdown; exits 0 only if every check passed.
 *
 * Options: --minutes (10) --aborts (10000) --concurrency (32) --storm-concurrency (64)
 * --sample-seconds (5) --rss-drift-limit (percent, 20) --settle-seconds (10).
 * Warm-up: 20% of the run, at least 60 s, at most half the run.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { AbortJoin } from './soak-abort-join.js';
import { abortStorm, EXPECTED_OUTCOMES, mixedLoad, newLoadState } from './soak-load.js';
import {
  metricValue,
  rssMb,
  type SoakProcesses,
  socketCounts,
  startProcesses,
} from './soak-procs.js';
import type { UpstreamStats } from './soak-protocol.js';
import {
  DISTRIBUTION_HEADER,
  distributionRow,
  outcomeTable,
  type Sample,
  sampleTable,
  trends,
  trendTable,
} from './soak-report.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    aborts: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '32' },
    'storm-concurrency': { type: 'string', default: '64' },
    'sample-seconds': { type: 'string', default: '5' },
    'rss-drift-limit': { type: 'string', default: '20' },
    'settle-seconds': { type: 'string', default: '10' },
  },
});
const minutes = Number(values.minutes);
const aborts = Number(values.aborts);
const concurrency = Number(values.concurrency);
const stormConcurrency = Number(values['storm-concurrency']);
const sampleMs = Number(values['sample-seconds']) * 1000;
const rssDriftLimit = Number(values['rss-drift-limit']);
const settleMs = Number(values['settle-seconds']) * 1000;
const runSeconds = minutes * 60;
const warmupSeconds = Math.min(runSeconds / 2, Math.max(60, runSeconds * 0.2));

if (!existsSync('dist/main.js')) throw new Error('run `npm run build` first (npm run soak does)');
if (!existsSync('/proc/self/fd')) throw new Error('the soak reads /proc (Linux only)');

const MB = 1024 * 1024;
const procs = await startProcesses();
const gatewayPid = procs.gateway.pid ?? 0;
const upstreamPid = procs.upstream.pid ?? 0;
const join = new AbortJoin();
const log = (line: string): void => void process.stderr.write(`[soak] ${line}\n`);

async function scrape(): Promise<string> {
  const response = await fetch(procs.metricsUrl);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

async function upstreamStats(): Promise<UpstreamStats> {
  const stats = await procs.upstreamStats();
  join.absorb(stats.events);
  return stats;
}

async function sample(started: number, finished: number): Promise<Sample> {
  const [text, stats] = await Promise.all([scrape(), upstreamStats()]);
  const gateway = socketCounts(gatewayPid, procs.gatewayPort, procs.upstreamPort);
  const upstream = socketCounts(upstreamPid);
  return {
    atSeconds: (performance.now() - started) / 1000,
    finished,
    rssMb: rssMb(gatewayPid),
    heapUsedMb: metricValue(text, 'aigw_nodejs_heap_size_used_bytes') / MB,
    handles: metricValue(text, 'aigw_nodejs_active_handles_total'),
    gatewaySockets: gateway.sockets,
    gatewayToUpstream: gateway.outbound,
    upstreamConnections: upstream.established,
    upstreamActive: stats.activeResponses,
    requestsInFlight: metricValue(text, 'aigw_requests_in_flight'),
    streamsInFlight: metricValue(text, 'aigw_streams_in_flight'),
    lagP99Ms: metricValue(text, 'aigw_nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

const total = (outcomes: ReadonlyMap<string, number>): number =>
  [...outcomes.values()].reduce((sum, value) => sum + value, 0);

/** Samples every `sampleMs` until `work` settles, then once more. */
async function sampled<T>(work: Promise<T>, finished: () => number, into: Sample[]) {
  const started = performance.now();
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  into.push(await sample(started, finished()));
  while (!done) {
    await Promise.race([result, sleep(sampleMs)]);
    const reading = await sample(started, finished());
    into.push(reading);
    log(
      `t=${reading.atSeconds.toFixed(0)}s finished=${reading.finished} rss=${reading.rssMb.toFixed(1)}MB`,
    );
  }
  return result;
}

// Fail early if the metric names this script reads do not exist.
const firstScrape = await scrape();
for (const name of ['aigw_nodejs_heap_size_used_bytes', 'aigw_requests_in_flight']) {
  if (Number.isNaN(metricValue(firstScrape, name))) throw new Error(`no ${name} in /metrics`);
}

log(`soak: ${minutes} min, ${concurrency} clients; warm-up ${warmupSeconds} s`);
const soak = newLoadState(join.abortedAt);
const soakSamples: Sample[] = [];
const sent = await sampled(
  mixedLoad(procs.gatewayUrl, soak, concurrency, Date.now() + runSeconds * 1000),
  () => total(soak.outcomes),
  soakSamples,
);

log(`abort storm: ${aborts} streams, ${stormConcurrency} at a time`);
const storm = newLoadState(join.abortedAt);
const stormSamples: Sample[] = [];
const stormMs = await sampled(
  abortStorm(procs.gatewayUrl, storm, aborts, stormConcurrency),
  () => total(storm.outcomes),
  stormSamples,
);

// Settle: until nothing is in flight and the upstream has no connection left (idle keep-alive
// sockets close after the gateway pool's 4 s), or settleMs.
const settleStart = performance.now();
let settled = await sample(settleStart, total(storm.outcomes));
while (performance.now() - settleStart < settleMs) {
  const quiet =
    settled.upstreamActive === 0 && settled.requestsInFlight === 0 && settled.streamsInFlight === 0;
  if (quiet && settled.upstreamConnections === 0) break;
  await sleep(250);
  settled = await sample(settleStart, total(storm.outcomes));
}
const settleSeconds = (performance.now() - settleStart) / 1000;
const finalStats = await upstreamStats();
const finalText = await scrape();

report(procs);

function report(processes: SoakProcesses): never {
  const soakTrends = trends(soakSamples, warmupSeconds);
  const rssTrend = soakTrends.find((trend) => trend.name === 'RSS MB');
  const unexpected = (outcomes: ReadonlyMap<string, number>) =>
    [...outcomes.entries()].filter(([outcome]) => !EXPECTED_OUTCOMES.has(outcome));
  const scripted502 = soak.outcomes.get('scripted 500 → 502') ?? 0;
  const metrics5xx = metricValue(finalText, 'aigw_requests_total', /status="5\d\d"/);
  const early = join.phase('early');
  const mid = join.phase('mid');
  const stormJoin = join.phase('storm');
  const completedDespiteAbort = early.completed + mid.completed + stormJoin.completed;
  const errorLogs =
    (processes.logLevels.get('error') ?? 0) + (processes.logLevels.get('fatal') ?? 0);
  const checks: [string, boolean][] = [
    [
      `no crash (${processes.crashes.join('; ') || 'both children alive'})`,
      processes.crashes.length === 0,
    ],
    [
      'no unexpected outcome in the soak or the storm',
      unexpected(soak.outcomes).length + unexpected(storm.outcomes).length === 0,
    ],
    [
      `gateway 5xx = the scripted ones (metrics ${metrics5xx}, scripted ${scripted502})`,
      (Number.isNaN(metrics5xx) ? 0 : metrics5xx) === scripted502,
    ],
    [
      `RSS drift after warm-up < ${rssDriftLimit}% (${rssTrend?.driftPercent.toFixed(1)}%)`,
      (rssTrend?.driftPercent ?? Number.POSITIVE_INFINITY) < rssDriftLimit,
    ],
    [
      `upstream responses still open after the storm = 0 (${settled.upstreamActive})`,
      settled.upstreamActive === 0,
    ],
    [
      `aborted requests the upstream ran to completion = 0 (${completedDespiteAbort})`,
      completedDespiteAbort === 0,
    ],
    [
      `aigw_requests_in_flight = 0 (${settled.requestsInFlight}), aigw_streams_in_flight = 0 (${settled.streamsInFlight})`,
      settled.requestsInFlight === 0 && settled.streamsInFlight === 0,
    ],
    [`no error/fatal gateway log lines (${errorLogs})`, errorLogs === 0],
  ];
  const passed = checks.every(([, ok]) => ok);
  const lines = [
    `## ai-gateway soak (${new Date().toISOString()})`,
    '',
    `Soak: ${minutes} min, ${concurrency} clients, ${sent} requests sent, warm-up ${warmupSeconds} s, one sample every ${sampleMs / 1000} s.`,
    `Abort storm: ${aborts} streams, ${stormConcurrency} at a time, in ${(stormMs / 1000).toFixed(1)} s (${(aborts / (stormMs / 1000)).toFixed(0)}/s).`,
    '',
    '### Soak outcomes',
    '',
    ...outcomeTable(soak.outcomes),
    '',
    '### Soak samples',
    '',
    ...sampleTable(soakSamples),
    '',
    '### Drift after warm-up',
    '',
    ...trendTable(soakTrends),
    '',
    '### Abort storm',
    '',
    ...outcomeTable(storm.outcomes),
    '',
    ...sampleTable(stormSamples),
    '',
    `After the storm (settled for ${settleSeconds.toFixed(1)} s): upstream connections ${settled.upstreamConnections} (upstream's own count ${finalStats.openConnections}), gateway→upstream connections ${settled.gatewayToUpstream}, upstream responses open ${settled.upstreamActive}, aigw_requests_in_flight ${settled.requestsInFlight}, aigw_streams_in_flight ${settled.streamsInFlight}, gateway sockets ${settled.gatewaySockets}, handles ${settled.handles}, RSS ${settled.rssMb.toFixed(1)} MB, heap ${settled.heapUsedMb.toFixed(1)} MB.`,
    `Upstream totals: ${finalStats.started} requests received, ${finalStats.cut} cut by the gateway. aigw_client_aborts_total ${metricValue(finalText, 'aigw_client_aborts_total')}.`,
    '',
    '### Client abort → upstream sees the connection close',
    '',
    ...DISTRIBUTION_HEADER,
    distributionRow('soak, before first byte: abort → upstream close', early.delays),
    distributionRow('soak, mid-stream: abort → upstream close', mid.delays),
    distributionRow('storm: abort → upstream close', stormJoin.delays),
    distributionRow('storm: upstream lifetime of an aborted request', stormJoin.lifetimes),
    '',
    `Client aborts the upstream never reported (the request never reached it): before first byte ${join.unreported('early')}, mid-stream ${join.unreported('mid')}, storm ${join.unreported('storm')}. Upstream ran to completion despite the abort: before first byte ${early.completed}, mid-stream ${mid.completed}, storm ${stormJoin.completed}.`,
    `Gateway log lines by level: ${[...processes.logLevels.entries()].map(([level, n]) => `${level} ${n}`).join(', ') || 'none'}.`,
    ...processes.errorLines.map((line) => `    ${line.slice(0, 300)}`),
    '',
    '### Checks',
    '',
    ...checks.map(([name, ok]) => `- ${ok ? 'PASS' : 'FAIL'} ${name}`),
    '',
    passed ? 'Result: PASS' : 'Result: FAIL',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  processes.stop();
  process.exit(passed ? 0 : 1);
}
