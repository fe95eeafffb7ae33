import type { FastifyBaseLogger } from 'fastify';
import { type Bindings, type ChildLoggerOptions, levels } from 'pino';

type LogMethod = (...args: unknown[]) => void;

/**
 * Fastify's `childLoggerFactory`: the per-request child logger (the request id bound) made only when
 * the request first logs. Fastify makes one for every request, and pino's `child` runs its bindings
 * through the redaction paths: a visible share of the server's profile, for a logger that most
 * requests never use (their one access line is written apart, see access-log.ts). A call at a
 * level that is off (the router's per-attempt debug line at `info`) makes none either. A request
 * that logs gets pino's own child, so its lines are what they were.
 */
export function lazyChildLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}

class LazyChildLogger {
  #made: FastifyBaseLogger | undefined;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #child(): FastifyBaseLogger {
    this.#made ??= this.#parent.child(this.#bindings, this.#options);
    return this.#made;
  }

  /** Whether a line at `level` would be written; once the child exists, it decides. */
  #off(level: string): boolean {
    if (this.#made !== undefined) return false;
    return (levels.values[level] ?? 0) < (levels.values[this.level] ?? Number.POSITIVE_INFINITY);
  }

  get level(): string {
    return this.#made?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#child().level = level;
  }

  fatal(...args: unknown[]): void {
    if (this.#off('fatal')) return;
    (this.#child().fatal as LogMethod)(...args);
  }

  error(...args: unknown[]): void {
    if (this.#off('error')) return;
    (this.#child().error as LogMethod)(...args);
  }

  warn(...args: unknown[]): void {
    if (this.#off('warn')) return;
    (this.#child().warn as LogMethod)(...args);
  }

  info(...args: unknown[]): void {
    if (this.#off('info')) return;
    (this.#child().info as LogMethod)(...args);
  }

  debug(...args: unknown[]): void {
    if (this.#off('debug')) return;
    (this.#child().debug as LogMethod)(...args);
  }

  trace(...args: unknown[]): void {
    if (this.#off('trace')) return;
    (this.#child().trace as LogMethod)(...args);
  }

  /** Writes nothing, at any level: no child needed. */
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#child().child(bindings, options);
  }
}
