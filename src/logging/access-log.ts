import { levels, symbols } from 'pino';
import type { RequestObserver } from '../events/finished-request.js';

/** The fields of the one access line per request. */
export interface AccessLine {
  readonly requestId: string;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly durationMs: number;
  readonly keyId?: string | undefined;
  readonly provider?: string | undefined;
  readonly model?: string | undefined;
  readonly deployment?: string | undefined;
  readonly attempts?: number | undefined;
  readonly promptTokens?: number | undefined;
  readonly completionTokens?: number | undefined;
  readonly errorCode?: string | undefined;
}

export type AccessLog = (line: AccessLine) => void;

const ACCESS_MESSAGE = 'request completed';

const INFO = levels.values.info ?? 30;

/**
 * Writes access lines straight to the logger's destination, in the logger's own format (level
 * label, time, its bindings, then the fields, then `msg`). Every request writes one, so this skips
 * what pino does generically for any object (redaction paths, hooks, serializers), a tenth of
 * pino's cost a line (docs/performance.md). Only our own fields go in, none of them a credential
 * (`keyId` is a fingerprint); client text (the model name) is escaped by JSON.stringify.
 */
export function createAccessLog(logger: { readonly level: string }): AccessLog {
  const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[
    symbols.streamSym
  ];
  const bindings = (logger as unknown as Record<symbol, string>)[symbols.chindingsSym] ?? '';
  return (line) => {
    if (stream === undefined || !((levels.values[logger.level] ?? Infinity) <= INFO)) return;
    let text = `{"level":"info","time":${Date.now()}${bindings},"requestId":${JSON.stringify(line.requestId)},"method":${JSON.stringify(line.method)},"route":${JSON.stringify(line.route)},"status":${line.status},"durationMs":${line.durationMs}`;
    text += stringField('keyId', line.keyId);
    text += stringField('provider', line.provider);
    text += stringField('model', line.model);
    text += stringField('deployment', line.deployment);
    text += numberField('attempts', line.attempts);
    text += numberField('promptTokens', line.promptTokens);
    text += numberField('completionTokens', line.completionTokens);
    text += stringField('errorCode', line.errorCode);
    stream.write(`${text},"msg":"${ACCESS_MESSAGE}"}\n`);
  };
}

function stringField(name: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${name}":${JSON.stringify(value)}`;
}

/** Numbers from upstream usage: anything but a finite number is left out, as JSON would. */
function numberField(name: string, value: number | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? `,"${name}":${value}` : '';
}

/** The access log as an observer of the end of each request: one line per request. */
export function accessLogObserver(accessLog: AccessLog): RequestObserver {
  return (request) =>
    accessLog({
      requestId: request.requestId,
      method: request.method,
      route: request.route,
      status: request.status,
      durationMs: Math.round(request.durationMs * 100) / 100,
      keyId: request.principal?.keyId,
      provider: request.provider,
      model: request.model,
      deployment: request.deployment,
      attempts: request.attempts,
      promptTokens: request.usage?.prompt_tokens,
      completionTokens: request.usage?.completion_tokens,
      errorCode: request.errorCode,
    });
}
