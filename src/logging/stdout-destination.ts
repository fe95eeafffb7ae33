import type { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';

/** A pino destination that can also be flushed on the spot (at exit). */
export interface BatchingDestination extends DestinationStream {
  /** Writes the lines still waiting for the end of the turn, now. */
  flushSync(): void;
  /**
   * pino's `logger.flush(callback)`: writes what is pending and calls back once the sink has
   * handed everything to the OS (graceful shutdown waits for it: `process.exit` would lose what a
   * pipe had not taken yet).
   */
  flush(callback?: (error?: Error) => void): void;
}

export interface BatchingOptions {
  /** A reader this far behind (bytes) is stalled: lines are dropped and counted, not held. */
  readonly maxQueuedBytes?: number;
}

/** Longest a stalled stdout reader may make us hold (the same cap as before this destination). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/**
 * POSIX writes up to PIPE_BUF (4096 bytes on Linux) to a pipe are atomic: cluster workers share
 * stdout, and a batch written in one piece can never have another worker's line spliced into it.
 */
const ATOMIC_WRITE_BYTES = 4096;

/**
 * Log lines written during one event-loop turn (every request that finished in it) leave together
 * at the end of the turn (`setImmediate`), in one write of at most 4 KiB where they fit, straight
 * to `sink`. For the gateway that is `process.stdout`, whose writes Node makes non-blocking for a
 * pipe (a container runtime, journald: the event loop never waits for the reader) and synchronous
 * for a file. Against pino's asynchronous sonic-boom destination (one write call per line, the
 * batch handed to libuv's thread pool) it brought a request's CPU with stdout piped to a reader
 * down to that with no logging at all (docs/performance.md, "Measured choices in the code").
 *
 * If the reader stalls, Node queues what it cannot write; past `maxQueuedBytes` lines are dropped
 * rather than held, and once the reader catches up a `warn` line says how many were lost.
 */
export function createBatchingDestination(
  sink: Writable,
  options: BatchingOptions = {},
): BatchingDestination {
  const maxQueuedBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  let pending: string[] = [];
  let dropped = 0;
  // Writes the sink has not confirmed yet, and who waits for them all (flush).
  let unconfirmed = 0;
  let waiters: Array<() => void> = [];
  const settle = () => {
    const waiting = waiters;
    waiters = [];
    for (const waiter of waiting) waiter();
  };
  const confirmed = () => {
    unconfirmed -= 1;
    if (unconfirmed === 0) settle();
  };
  // A reader that went away (EPIPE): nothing more can be written, and nothing is thrown.
  let broken = false;
  sink.on('error', () => {
    broken = true;
    settle();
  });
  const write = (text: string) => {
    unconfirmed += 1;
    sink.write(text, confirmed);
  };
  const flushSync = () => {
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    if (broken) return;
    if (sink.writableLength > maxQueuedBytes) {
      dropped += lines.length;
      return;
    }
    if (dropped > 0) {
      lines.unshift(droppedLine(dropped));
      dropped = 0;
    }
    writeInPieces(write, lines);
  };
  return {
    write(line: string) {
      if (pending.push(line) === 1) setImmediate(flushSync);
    },
    flushSync,
    flush(callback) {
      flushSync();
      if (broken || unconfirmed === 0) callback?.();
      else if (callback !== undefined) waiters.push(callback);
    },
  };
}

/**
 * Stdout, batched per turn. What is pending when the process exits is written then; a graceful
 * shutdown should `logger.flush` first so a slow pipe reader still gets every line.
 */
export function createStdoutDestination(): BatchingDestination {
  const destination = createBatchingDestination(process.stdout);
  process.once('exit', () => destination.flushSync());
  return destination;
}

/** Joins lines into writes of at most ATOMIC_WRITE_BYTES; a longer line goes alone. */
function writeInPieces(write: (text: string) => void, lines: readonly string[]): void {
  let start = 0;
  let bytes = 0;
  for (let index = 0; index < lines.length; index++) {
    const size = Buffer.byteLength(lines[index] ?? '');
    if (bytes > 0 && bytes + size > ATOMIC_WRITE_BYTES) {
      write(lines.slice(start, index).join(''));
      start = index;
      bytes = 0;
    }
    bytes += size;
  }
  write(start === 0 ? lines.join('') : lines.slice(start).join(''));
}

function droppedLine(count: number): string {
  return `{"level":"warn","time":${Date.now()},"dropped":${count},"msg":"stdout was not being read: log lines dropped"}\n`;
}
