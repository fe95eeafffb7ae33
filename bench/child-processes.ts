/** The benchmark's and the soak's child processes: readiness, CPU pinning, /proc stats. */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Resolves with the first match of `pattern` in the child's stdout (15 s at most). */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in: ${seen}`)), 15_000);
    child.stdout?.on('data', function onData(data: Buffer) {
      seen += data.toString();
      const match = pattern.exec(seen);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(match);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${seen}`)));
  });
}

/** Resolves once `url` answers 2xx (15 s at most). */
export async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the gateway did not answer ${url}`);
}

/** `command args` pinned to one CPU with taskset when the machine has two or more. */
export const pin = (cpu: number, command: string, args: string[]): [string, string[]] =>
  hasTaskset() ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];

/** Whether taskset works here and there are at least two CPUs to pin to. */
export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm) ?? []).length >= 2;
  } catch {
    return false;
  }
}

/** CPU time and memory of a process (with its workers). */
export interface ProcessStats {
  /** user+system CPU seconds. */
  readonly cpuSeconds: number;
  /** Resident memory (MB), including the pages of the node binary that every process shares. */
  readonly rssMb: number;
  /** Resident anonymous memory (MB): what this process alone holds (heap, buffers, stacks). */
  readonly privateMb: number;
}

/** {@link ProcessStats} of a process and its children (cluster workers), summed. */
export function processStats(pid: number): ProcessStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const own = {
    cpuSeconds: ticks / 100,
    rssMb: kib('VmRSS') / 1024,
    privateMb: kib('RssAnon') / 1024,
  };
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children === ''
    ? own
    : children
        .split(' ')
        .map((child) => processStats(Number(child)))
        .reduce(
          (sum, stats) => ({
            cpuSeconds: sum.cpuSeconds + stats.cpuSeconds,
            rssMb: sum.rssMb + stats.rssMb,
            privateMb: sum.privateMb + stats.privateMb,
          }),
          own,
        );
}
