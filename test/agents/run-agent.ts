/**
 * Runs an agent's CLI as a child process with a bounded time, and hands back what it printed.
 * The child gets only the environment it is given (no inherited keys or proxies), in its own
 * process group, so a timeout ends it and whatever it spawned (Codex's launcher runs a native
 * binary, which runs shells).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** Options of {@link runAgent}. */
export interface RunAgentOptions {
  readonly cwd: string;
  /** The whole environment of the child. */
  readonly env: Readonly<Record<string, string>>;
  /** The child and its group are killed after this long. */
  readonly timeoutMs: number;
}

/** How the run ended. */
export interface AgentRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** Runs `command` with `args` and resolves once it exited (or was killed at the deadline). */
export function runAgent(
  command: string,
  args: readonly string[],
  options: RunAgentOptions,
): Promise<AgentRun> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      // Whatever the agent left running (a shell it started) goes with it.
      killGroup();
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout,
        stderr,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

/** A run's outcome and output, for an assertion message. */
export function describeRun(run: AgentRun): string {
  const end = run.timedOut ? 'timed out' : `exit ${run.exitCode ?? run.signal}`;
  return `${end} after ${run.durationMs} ms\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}
