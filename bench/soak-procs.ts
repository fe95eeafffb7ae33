/**
 * The soak's processes and what it reads of them: the fake upstream and the built gateway as
 * children (killed when the soak exits, whatever the reason), sockets counted from /proc, and the
 * gateway's Prometheus text read into numbers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { unusedPort } from '../test/helpers/unused-port.js';
import { waitForHealth, waitForLine } from './child-processes.js';
import { isUpstreamStats, type UpstreamStats } from './soak-protocol.js';

/** The two children and where they listen. */
export interface SoakProcesses {
  readonly upstream: ChildProcess;
  readonly gateway: ChildProcess;
  readonly upstreamUrl: string;
  readonly upstreamPort: number;
  readonly gatewayUrl: string;
  readonly gatewayPort: number;
  readonly metricsUrl: string;
  /**
   * Gateway log lines by level (`warn`, `error`, `fatal`…; `error (scripted failure)` for the
   * requests the soak made fail on purpose), and the first other error lines.
   */
  readonly logLevels: Map<string, number>;
  readonly errorLines: string[];
  /** Set when a child exited before the soak stopped it. */
  readonly crashes: string[];
  /** Asks the upstream for its counters and the watched responses ended since the last call. */
  upstreamStats(): Promise<UpstreamStats>;
  stop(): void;
}

export const SOAK_KEY = 'soak-key-0123456789';

/** Starts the upstream, then the gateway in front of it; resolves once both answer. */
export async function startProcesses(): Promise<SoakProcesses> {
  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => process.exit(130));
  const crashes: string[] = [];
  const watch = (name: string, child: ChildProcess): void => {
    children.push(child);
    child.once('exit', (code, signal) => {
      if (!stopping) crashes.push(`${name} exited (code ${code}, signal ${signal})`);
    });
  };

  const upstream = spawn(process.execPath, ['--import', 'tsx', 'bench/soak-upstream.ts'], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  watch('upstream', upstream);
  const upstreamUrl = (await waitForLine(upstream, /ready (\S+)/))[1] ?? '';
  const upstreamPort = Number(new URL(upstreamUrl).port);

  const gatewayPort = await unusedPort();
  const metricsPort = await unusedPort();
  const gateway = spawn(process.execPath, ['dist/main.js'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(gatewayPort),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      ALLOWED_API_KEYS: SOAK_KEY,
      OLLAMA_HOST: upstreamUrl,
      CEREBRAS_BASE_URL: `${upstreamUrl}/v1`,
      CEREBRAS_API_KEY: 'soak-provider-key',
      // Warnings and errors only: the access log of ~100 k requests would be most of the cost.
      LOG_LEVEL: 'warn',
      WORKERS: '1',
    },
  });
  watch('gateway', gateway);
  const logLevels = new Map<string, number>();
  const errorLines: string[] = [];
  let partial = '';
  gateway.stdout?.on('data', (data: Buffer) => {
    const lines = (partial + data.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const parsed = /"level":"(\w+)"/.exec(line)?.[1] ?? 'unparsed';
      // The scripted upstream failures (ids `f-…`) are logged as errors by design.
      const scripted = /"requestId":"f-/.test(line);
      const level = scripted ? `${parsed} (scripted failure)` : parsed;
      logLevels.set(level, (logLevels.get(level) ?? 0) + 1);
      if ((level === 'error' || level === 'fatal') && errorLines.length < 5) errorLines.push(line);
    }
  });
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await waitForHealth(`${gatewayUrl}/healthz`);

  return {
    upstream,
    gateway,
    upstreamUrl,
    upstreamPort,
    gatewayUrl,
    gatewayPort,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    logLevels,
    errorLines,
    crashes,
    upstreamStats: () => askUpstream(upstream),
    stop,
  };
}

function askUpstream(upstream: ChildProcess): Promise<UpstreamStats> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      upstream.off('message', onMessage);
      reject(new Error('the upstream did not answer its stats within 5 s'));
    }, 5_000);
    const onMessage = (message: unknown): void => {
      if (!isUpstreamStats(message)) return;
      clearTimeout(timer);
      upstream.off('message', onMessage);
      resolve(message);
    };
    upstream.on('message', onMessage);
    upstream.send({ type: 'stats' });
  });
}

/** Socket counts of one process, from /proc: every socket fd, and its TCP ones by state. */
export interface SocketCounts {
  /** Every fd that is a socket (TCP, Unix, listening ones included). */
  readonly sockets: number;
  /** ESTABLISHED TCP sockets. */
  readonly established: number;
  /** ESTABLISHED TCP sockets whose local port is `localPort` (connections accepted there). */
  readonly inbound: number;
  /** ESTABLISHED TCP sockets whose remote port is `remotePort` (connections made to it). */
  readonly outbound: number;
}

/** Counts the sockets of `pid`; `localPort`/`remotePort` split its established TCP ones. */
export function socketCounts(pid: number, localPort = -1, remotePort = -1): SocketCounts {
  const inodes = new Set<string>();
  for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
    const target = safeReadlink(`/proc/${pid}/fd/${fd}`);
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  let established = 0;
  let inbound = 0;
  let outbound = 0;
  for (const table of ['tcp', 'tcp6']) {
    for (const line of safeRead(`/proc/${pid}/net/${table}`).split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, remote, state] = fields;
      const inode = fields[9];
      if (inode === undefined || state !== '01' || !inodes.has(inode)) continue;
      established += 1;
      if (portOf(local) === localPort) inbound += 1;
      if (portOf(remote) === remotePort) outbound += 1;
    }
  }
  return { sockets: inodes.size, established, inbound, outbound };
}

/** `0100007F:1F90` → 8080. */
function portOf(address: string | undefined): number {
  return Number.parseInt(address?.split(':').at(-1) ?? '', 16);
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** An fd can close between the listing and the readlink. */
function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Resident set size of `pid` in MB, from /proc (independent of the gateway's own metrics). */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+)/.exec(safeRead(`/proc/${pid}/status`));
  return Number(match?.[1] ?? 0) / 1024;
}

/**
 * The sum of every series of metric `name` in Prometheus text, optionally only the series whose
 * labels contain `labelFilter` (e.g. `status="502"`); NaN when there is no such series.
 */
export function metricValue(text: string, name: string, labelFilter?: RegExp): number {
  let sum = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!rest.startsWith(' ') && !rest.startsWith('{')) continue;
    const labels = rest.startsWith('{') ? rest.slice(0, rest.indexOf('}') + 1) : '';
    if (labelFilter !== undefined && !labelFilter.test(labels)) continue;
    const value = Number(rest.slice(labels.length).trim().split(' ')[0]);
    sum = (Number.isNaN(sum) ? 0 : sum) + value;
  }
  return sum;
}
