/**
 * The gateway's real entry point in a child process (`node --import tsx src/main.ts`), configured
 * only through its environment, and what tests of it share: waiting for it to listen, bounded
 * waits, and a fake upstream with an empty working directory per describe block.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Starting through tsx takes a second or two; generous, still bounded. */
export const START_TIMEOUT_MS = 15_000;

export interface GatewayProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null if killed by a signal). */
  readonly exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

/**
 * Spawns the gateway with exactly `env` (plus PATH), in an empty working directory so a developer's
 * `.env` in the repository cannot change what is tested.
 */
export function spawnGateway(
  env: Record<string, string>,
  cwd: string,
  options: { readonly ownProcessGroup?: boolean } = {},
): GatewayProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup === true,
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (data: string) => {
    stdout += data;
  });
  child.stderr?.setEncoding('utf8').on('data', (data: string) => {
    stderr += data;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Rejects if `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the gateway logged that it listens; fails early if it exits instead. */
export async function listening(gateway: GatewayProcess): Promise<void> {
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/"msg":"Server listening at /.test(gateway.stdout())) resolve();
    };
    gateway.child.stdout?.on('data', check);
    check();
    void gateway.exited.then((code) =>
      reject(new Error(`gateway exited with ${code}: ${gateway.stderr()}${gateway.stdout()}`)),
    );
  });
  await within(ready, START_TIMEOUT_MS, 'gateway start');
}

/** Waits until `count` cluster workers logged that they listen. */
export async function workersListening(gateway: GatewayProcess, count: number): Promise<void> {
  const ready = new Promise<void>((resolve) => {
    const check = () => {
      const listens = gateway.stdout().match(/"msg":"Server listening at /g) ?? [];
      if (listens.length >= count) resolve();
    };
    gateway.child.stdout?.on('data', check);
    check();
  });
  await within(ready, START_TIMEOUT_MS, `${count} workers listening`);
}

/** The error code of a fresh TCP connection attempt, or 'connected'. */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/**
 * A fake upstream and an empty working directory for one describe block; every spawned gateway
 * is killed after each test.
 */
export function useProcessFixture(prefix: string): {
  readonly upstream: FakeUpstream;
  readonly cwd: string;
} {
  let upstream: FakeUpstream | undefined;
  let cwd: string | undefined;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    cwd = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const child of running) child.kill('SIGKILL');
    await Promise.all([...running].map((child) => once(child, 'exit')));
    upstream?.reset();
  });
  afterAll(async () => {
    await upstream?.close();
    if (cwd !== undefined) await rm(cwd, { recursive: true, force: true });
  });
  return {
    get upstream() {
      if (upstream === undefined) throw new Error('the fixture runs only inside the tests');
      return upstream;
    },
    get cwd() {
      if (cwd === undefined) throw new Error('the fixture runs only inside the tests');
      return cwd;
    },
  };
}
