import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type AccessLine, createAccessLog } from './access-log.js';
import { createLogger } from './logger.js';

function capture(level = 'info') {
  const lines: string[] = [];
  const logger = createLogger({
    level,
    secrets: [],
    destination: { write: (line) => lines.push(line) },
  });
  return { logger, lines, accessLog: createAccessLog(logger) };
}

const FULL: AccessLine = {
  requestId: 'req-1',
  method: 'POST',
  route: '/v1/chat/completions',
  status: 200,
  durationMs: 12.34,
  keyId: 'key_0123456789ab',
  provider: 'cerebras',
  model: 'llama-3.3-70b',
  deployment: 'cerebras/llama-3.3-70b',
  attempts: 2,
  promptTokens: 11,
  completionTokens: 22,
  errorCode: 'upstream_error',
};

/**
 * access-log.ts writes to pino's destination through two of pino's internal symbols. Internals
 * may change in any release, so this pins the version they were checked against: a pino upgrade
 * fails here until the lines below are checked again (and this version moved with them).
 */
const PINO_VERSION_CHECKED = '10.4.0';

describe('createAccessLog', () => {
  it(`runs on the pino version its internals were checked against (${PINO_VERSION_CHECKED})`, () => {
    const { version } = createRequire(import.meta.url)('pino/package.json') as { version: string };
    expect(version).toBe(PINO_VERSION_CHECKED);
  });

  it('writes the line pino would write for the same fields', () => {
    const { logger, lines, accessLog } = capture();
    accessLog(FULL);
    const { requestId, ...fields } = FULL;
    logger.child({ requestId }).info(fields, 'request completed');
    const [ours, pinos] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]?.endsWith('}\n')).toBe(true);
    expect({ ...ours, time: 0 }).toEqual({ ...pinos, time: 0 });
    // Same key order too: log readers that diff lines see no change.
    expect(Object.keys(ours ?? {})).toEqual(Object.keys(pinos ?? {}));
    expect(Math.abs(Number(ours?.time) - Date.now())).toBeLessThan(5_000);
  });

  it('leaves out missing fields and numbers that are not finite', () => {
    const { lines, accessLog } = capture();
    accessLog({
      requestId: 'req-2',
      method: 'GET',
      route: 'unmatched',
      status: 404,
      durationMs: 0.5,
      promptTokens: Number.NaN,
      completionTokens: Number.POSITIVE_INFINITY,
    });
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(Object.keys(entry)).toEqual([
      'level',
      'time',
      'pid',
      'hostname',
      'requestId',
      'method',
      'route',
      'status',
      'durationMs',
      'msg',
    ]);
  });

  it('escapes client text, so a model name cannot forge a field or a line', () => {
    const { lines, accessLog } = capture();
    const model = 'm","status":1}\n{"level":"fatal\u2028\u0000';
    accessLog({ ...FULL, model });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.split('\n')).toHaveLength(2);
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry.model).toBe(model);
    expect(entry.status).toBe(200);
  });

  it('writes nothing when info is disabled, and follows later level changes', () => {
    const { logger, lines, accessLog } = capture('warn');
    accessLog(FULL);
    expect(lines).toHaveLength(0);
    logger.level = 'debug';
    accessLog(FULL);
    expect(lines).toHaveLength(1);
  });
});
