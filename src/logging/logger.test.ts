import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

const SECRET = 'sk-live-0123456789abcdef';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    secrets: [SECRET],
    destination: { write: (line) => lines.push(line) },
  });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, parsed };
}

describe('createLogger', () => {
  it('scrubs secrets from messages, format arguments and logged errors', () => {
    const { logger, lines, parsed } = capture();
    logger.warn({ code: 'x' }, `upstream said ${SECRET}`);
    logger.info('key %s rejected', SECRET);
    logger.error({ err: new Error(`bad key ${SECRET}`) }, 'upstream failed');
    expect(lines.join('')).not.toContain(SECRET);
    expect(parsed().map((line) => line.msg)).toEqual([
      'upstream said [REDACTED]',
      'key [REDACTED] rejected',
      'upstream failed',
    ]);
  });

  it('scrubs the message pino takes from a lone error, bare or under `err`', () => {
    const { logger, lines, parsed } = capture();
    logger.error(new Error(`bad key ${SECRET}`));
    logger.warn({ err: new Error(`bad key ${SECRET}`) });
    logger.warn({ err: { message: `bad key ${SECRET}` } });
    expect(lines.join('')).not.toContain(SECRET);
    const [bare, underErr, plain] = parsed();
    expect(bare).toMatchObject({ msg: 'bad key [REDACTED]' });
    expect(bare?.err).toMatchObject({ type: 'Error', message: 'bad key [REDACTED]' });
    expect(underErr).toMatchObject({ msg: 'bad key [REDACTED]' });
    expect(plain).toMatchObject({ msg: 'bad key [REDACTED]' });
  });

  it('scrubs every string of a logged error, its own fields and its causes included', () => {
    const { logger, lines, parsed } = capture();
    const cause = Object.assign(new Error(`refused ${SECRET}`), { body: `echo ${SECRET}` });
    const error = Object.assign(new Error('wrapped', { cause }), {
      status: 401,
      detail: { headers: { 'x-token': SECRET }, echoed: [`key ${SECRET}`] },
    });
    logger.error({ err: error }, 'upstream failed');
    expect(lines.join('')).not.toContain(SECRET);
    const [line] = parsed();
    expect(line?.err).toMatchObject({
      message: 'wrapped: refused [REDACTED]',
      status: 401,
      detail: { headers: { 'x-token': '[REDACTED]' }, echoed: ['key [REDACTED]'] },
    });
  });

  it('keeps a field named __proto__ as a field, scrubbed', () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error('upstream failed'), {
      detail: JSON.parse(`{"__proto__": {"token": "${SECRET}"}}`),
    });
    logger.error({ err: error }, 'failed');
    expect(lines.join('')).not.toContain(SECRET);
    expect(lines[0]).toContain('"detail":{"__proto__":{"token":"[REDACTED]"}}');
  });

  it('logs an error whose fields nest deeply or loop, cut at a few levels', () => {
    const { logger, parsed } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.error({ err: Object.assign(new Error('odd'), { loop }) }, 'x');
    const err = parsed()[0]?.err as { loop: Record<string, unknown> };
    expect(err.loop.name).toBe('loop');
    expect(JSON.stringify(err)).toContain('[too deep]');
  });

  it('logs bytes by their length and other values as JSON shows them', () => {
    const { logger, lines, parsed } = capture();
    const when = new Date(Date.UTC(2026, 10, 26));
    const error = Object.assign(new Error('odd'), {
      body: Buffer.from(`token ${SECRET}`),
      when,
      url: new URL(`https://example.test/v1?key=${SECRET}`),
    });
    logger.error({ err: error }, 'x');
    expect(lines.join('')).not.toContain(SECRET);
    expect(parsed()[0]?.err).toMatchObject({
      body: '[30 bytes]',
      when: '2026-11-26T00:00:00.000Z',
      url: 'https://example.test/v1?key=[REDACTED]',
    });
  });

  it('leaves lines with no error message as pino writes them', () => {
    const { logger, parsed } = capture();
    logger.info({ code: 'x' });
    logger.info({ err: new Error('mine'), msg: 'kept' });
    const [first, second] = parsed();
    expect(first).not.toHaveProperty('msg');
    expect(second).toMatchObject({ msg: 'kept' });
  });

  it('logs an `err` that is not an error instead of throwing, a string scrubbed', () => {
    const { logger, lines, parsed } = capture();
    logger.warn({ err: `refused ${SECRET}` }, 'a');
    logger.warn({ err: 42 }, 'b');
    logger.warn({ err: { message: 'no stack' } }, 'c');
    expect(lines.join('')).not.toContain(SECRET);
    expect(parsed().map((line) => line.err)).toEqual([
      'refused [REDACTED]',
      42,
      expect.objectContaining({ message: 'no stack' }),
    ]);
  });

  it('redacts credentials by path', () => {
    const { logger, lines } = capture();
    logger.info({ headers: { authorization: 'Bearer anything', 'x-api-key': 'other' } }, 'h');
    expect(lines[0]).not.toContain('anything');
    expect(lines[0]).not.toContain('other');
  });
});
