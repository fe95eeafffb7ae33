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
export const REDACT_PATHS: readonly string[] = [
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
 * credentials redacted by path, and error messages and stacks scrubbed of every known secret.
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
          method.apply(this, args);
        },
      },
      serializers: {
        err: (error: Error) => {
          const serialized = stdSerializers.err(error);
          return {
            ...serialized,
            message: scrub(serialized.message),
            stack: scrub(serialized.stack),
          };
        },
      },
    },
    options.destination ?? createStdoutDestination(),
  );
}
