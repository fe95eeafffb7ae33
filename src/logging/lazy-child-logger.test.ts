import { describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from './lazy-child-logger.js';
import { createLogger } from './logger.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const parent = createLogger({
    level,
    secrets: ['sk-secret-0123456789'],
    destination: { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const made = vi.spyOn(parent, 'child');
  return { parent, lines, made };
}

describe('lazyChildLogger', () => {
  it('makes no pino child until the request logs', () => {
    const { parent, made } = capture();
    const logger = lazyChildLogger(parent, { requestId: 'req-1' }, {});
    expect(logger.level).toBe('info');
    expect(made).not.toHaveBeenCalled();
  });

  it('makes none for a call at a level that is off, and writes nothing for it', () => {
    const { parent, lines, made } = capture('info');
    const logger = lazyChildLogger(parent, { requestId: 'req-0' }, {});
    logger.debug({ deployment: 'p/m' }, 'upstream attempt');
    logger.trace('trace');
    logger.silent('silent');
    expect(made).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    parent.level = 'debug';
    logger.debug('now on');
    expect(made).toHaveBeenCalledTimes(1);
    expect(lines.map((line) => line.msg)).toEqual(['now on']);
  });

  it('writes the lines pino’s own child writes, made once for all of them', () => {
    const { parent, lines, made } = capture('debug');
    const logger = lazyChildLogger(parent, { requestId: 'req-1' }, {});
    logger.warn({ code: 'upstream_error' }, 'first');
    logger.error({ err: new Error('upstream said sk-secret-0123456789') }, 'upstream failed');
    logger.debug('third');
    logger.trace('not at debug');
    parent.child({ requestId: 'req-1' }).warn({ code: 'upstream_error' }, 'first');
    expect(made).toHaveBeenCalledTimes(2);
    expect(lines).toHaveLength(4);
    const [lazyLine, , third, pinoLine] = lines;
    expect({ ...lazyLine, time: 0 }).toEqual({ ...pinoLine, time: 0 });
    expect(lines[1]).toMatchObject({ level: 'error', requestId: 'req-1' });
    expect(JSON.stringify(lines[1])).not.toContain('sk-secret-0123456789');
    expect(third).toMatchObject({ level: 'debug', requestId: 'req-1', msg: 'third' });
  });

  it('keeps every method of the logger interface, fatal to silent', () => {
    const { parent, lines } = capture('trace');
    const logger = lazyChildLogger(parent, { requestId: 'req-2' }, {});
    logger.fatal('f');
    logger.info('i');
    logger.trace('t');
    logger.silent('s');
    expect(lines.map((line) => [line.level, line.msg, line.requestId])).toEqual([
      ['fatal', 'f', 'req-2'],
      ['info', 'i', 'req-2'],
      ['trace', 't', 'req-2'],
    ]);
  });

  it('takes a level of its own (from options or set later) without changing the parent’s', () => {
    const { parent, lines } = capture('info');
    const quiet = lazyChildLogger(parent, { requestId: 'req-3' }, { level: 'error' });
    expect(quiet.level).toBe('error');
    quiet.warn('dropped');
    const loud = lazyChildLogger(parent, { requestId: 'req-4' }, {});
    loud.level = 'debug';
    loud.debug('kept');
    expect(loud.level).toBe('debug');
    expect(parent.level).toBe('info');
    expect(lines.map((line) => line.msg)).toEqual(['kept']);
  });

  it('binds a child’s fields on top of the request’s', () => {
    const { parent, lines } = capture();
    lazyChildLogger(parent, { requestId: 'req-5' }, {})
      .child({ provider: 'ollama' })
      .info('nested');
    expect(lines[0]).toMatchObject({ requestId: 'req-5', provider: 'ollama', msg: 'nested' });
  });
});
