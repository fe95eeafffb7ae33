import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/logging/logger.js';

/** A real gateway logger whose JSON lines are kept in memory for assertions. */
export interface LogCapture {
  readonly logger: FastifyBaseLogger;
  readonly lines: string[];
  /** Parsed lines. */
  entries(): Record<string, unknown>[];
  /** Everything written, as one string (for canary searches). */
  text(): string;
}

export function captureLogs(secrets: readonly string[] = [], level = 'debug'): LogCapture {
  const lines: string[] = [];
  const logger = createLogger({
    level,
    secrets,
    destination: {
      write(line: string) {
        lines.push(line);
      },
    },
  });
  return {
    logger,
    lines,
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => lines.join(''),
  };
}
