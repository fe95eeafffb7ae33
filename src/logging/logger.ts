import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';
import { scrubSecrets } from '../errors/scrub-secrets.js';
import { createStdoutDestination } from './stdout-destination.js';

export interface LoggerOptions {
  readonly level: string;
  /** Every key the process holds (client and provider keys): never written, even inside errors. */
  readonly secrets: readonly string[];
  /** Defaults to stdout, batched per event-loop turn; tests pass a stream to capture lines. */
  readonly destination?: DestinationStream;
}

/** Header and field paths that may carry credentials, censored wherever they appear. */
const REDACT_PATHS: readonly string[] = [
  'authorization',
  'apiKey',
  '*.apiKey',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
];

/**
 * JSON lines (pino escapes CR/LF, so a client value cannot forge a line), the level as a label,
 * credentials redacted by path, and messages and every string of a logged error scrubbed of every
 * known secret and credential-shaped token.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = (text: string) => scrubSecrets(text, options.secrets, 4_000);
  return pino(
    {
      level: options.level,
      redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // The message itself may be an error's text (upstream words included): scrubbed too.
        logMethod(args, method) {
          for (let index = 0; index < args.length; index++) {
            const arg = args[index];
            if (typeof arg === 'string') args[index] = scrub(arg);
          }
          // Given no message, pino takes an error's own (`log.error(err)`, `log.warn({ err })`),
          // past this hook: it is handed over scrubbed instead.
          const errorMessage = args.length === 1 ? ownErrorMessage(args[0]) : undefined;
          if (errorMessage !== undefined) {
            method.apply(this, [args[0] as object, scrub(errorMessage)]);
            return;
          }
          method.apply(this, args);
        },
      },
      serializers: {
        // Every string of a logged error is scrubbed, not only its message and stack: libraries
        // attach fields of their own (a body, options, headers). Anything can be logged as `err`.
        err: (error: unknown) => scrubStrings(stdSerializers.err(error as Error), scrub, 0),
      },
    },
    options.destination ?? createStdoutDestination(),
  );
}

/** How deep into a logged error's fields strings are scrubbed; deeper objects become a marker. */
const MAX_ERROR_DEPTH = 5;

/**
 * A copy of `value` as JSON would show it, every string scrubbed, to {@link MAX_ERROR_DEPTH}
 * levels (cycles end there). Bytes are logged by their length only: they may hold a secret too.
 */
function scrubStrings(value: unknown, scrub: (text: string) => string, depth: number): unknown {
  if (typeof value === 'string') return scrub(value);
  if (typeof value !== 'object' || value === null) return value;
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (depth >= MAX_ERROR_DEPTH) return '[too deep]';
  const { toJSON } = value as { toJSON?: unknown };
  if (typeof toJSON === 'function') return scrubStrings(toJSON.call(value), scrub, depth + 1);
  if (Array.isArray(value)) return value.map((item) => scrubStrings(item, scrub, depth + 1));
  // No prototype: a field named `__proto__` (an upstream's JSON parsed into an error) stays a field.
  const copy: Record<string, unknown> = Object.create(null);
  for (const [key, item] of Object.entries(value)) copy[key] = scrubStrings(item, scrub, depth + 1);
  return copy;
}

/** The message pino would log for a lone object: an Error's, or its `err`'s when it has no `msg`. */
function ownErrorMessage(value: unknown): string | undefined {
  if (value instanceof Error) return value.message;
  if (typeof value !== 'object' || value === null) return undefined;
  const { err, msg } = value as { err?: unknown; msg?: unknown };
  if (msg !== undefined || typeof err !== 'object' || err === null) return undefined;
  const { message } = err as { message?: unknown };
  return typeof message === 'string' ? message : undefined;
}
