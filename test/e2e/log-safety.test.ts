/**
 * Logs are safe to ship: the client key and the provider key never appear (not even when the
 * upstream echoes them in an error), every line is one JSON object, every access line carries the
 * request id and there is exactly one per request, prompts and completions stay out at the default
 * `info` level, and a hostile `x-request-id` cannot forge or split a line.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_REPLY,
  ndjsonResponse,
  ollamaNdjsonLines,
  openAiSseEvents,
  sseEvent,
  sseResponse,
} from '../helpers/fake-upstream-wire.js';
import {
  CLIENT_KEY,
  type GatewayHarness,
  PROVIDER_KEY,
  startGateway,
} from '../helpers/gateway-harness.js';
import { chatBody, postChat, readSseEvents } from '../helpers/sse-client.js';

/** A prompt no log line may contain. */
const PROMPT_CANARY = 'prompt-canary: the purple walrus sings at midnight';
const CHAT = '/cerebras/v1/chat/completions';
const OLLAMA_CHAT = '/ollama/v1/chat/completions';

/** Sends raw bytes over a fresh socket; resolves with whatever came back once it closed. */
function rawRequest(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      received += data;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.setTimeout(2_000, () => socket.destroy(new Error('raw request timed out')));
  });
}

describe('log safety', () => {
  let gateway: GatewayHarness;
  let port: number;
  /** Every HTTP request that reached the app, for the one-access-line-per-request check. */
  let requestsSent = 0;

  const post = async (path: string, body: unknown, options: Parameters<typeof postChat>[3]) => {
    requestsSent += 1;
    return postChat(gateway.url, path, body, options);
  };
  const accessLines = () =>
    gateway.logs.entries().filter((entry) => entry.msg === 'request completed');

  beforeAll(async () => {
    gateway = await startGateway({ LOG_LEVEL: 'info' });
    port = Number(new URL(gateway.url).port);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('keeps both keys and all prompt/completion text out of the logs through a mix of requests', async () => {
    const { upstream } = gateway;
    const clientBodies: string[] = [];
    const keep = async (response: Response) => {
      const text = await response.text();
      clientBodies.push(text);
      return { status: response.status, text };
    };

    // Successes, with the SDK, streaming and not, through both providers.
    for (const prefix of ['ollama', 'cerebras']) {
      const sdk = gateway.client(prefix);
      requestsSent += 1;
      const completion = await sdk.chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: PROMPT_CANARY }],
      });
      expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
      requestsSent += 1;
      const stream = await sdk.chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: PROMPT_CANARY }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe(DEFAULT_REPLY);
    }

    // Wrong key; the right key only in the query string (never read from there).
    expect(
      (await keep(await post(CHAT, chatBody(false), { apiKey: 'wrong-key-0123456' }))).status,
    ).toBe(401);
    for (const query of [`?api_key=${CLIENT_KEY}`, `?key=${CLIENT_KEY}&token=${PROVIDER_KEY}`]) {
      expect(
        (await keep(await post(`${CHAT}${query}`, chatBody(false), { apiKey: null }))).status,
      ).toBe(401);
    }

    // Upstream 401 echoing the provider key, raw and as a Bearer header.
    upstream.enqueue({
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${PROVIDER_KEY}. Header was: Bearer ${PROVIDER_KEY}`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    });
    expect((await keep(await post(CHAT, chatBody(false, PROMPT_CANARY), {}))).status).toBe(502);

    // Upstream 400s quoting the key in their message: relayed to the client, but scrubbed.
    upstream.enqueue({
      status: 400,
      body: { error: { message: `bad request for key ${PROVIDER_KEY}`, type: 'invalid_request' } },
    });
    expect((await keep(await post(CHAT, chatBody(false, PROMPT_CANARY), {}))).status).toBe(400);
    upstream.enqueue({ status: 400, body: { error: `model failed; auth ${PROVIDER_KEY}` } });
    expect((await keep(await post(OLLAMA_CHAT, chatBody(false, PROMPT_CANARY), {}))).status).toBe(
      400,
    );

    // Upstream 500s echoing the key.
    for (const path of [CHAT, OLLAMA_CHAT]) {
      upstream.enqueue({ status: 500, body: `internal error; key=${PROVIDER_KEY} ${CLIENT_KEY}` });
      expect((await keep(await post(path, chatBody(true, PROMPT_CANARY), {}))).status).toBe(502);
    }

    // Mid-stream errors echoing the key.
    upstream.enqueue(
      sseResponse([
        ...openAiSseEvents(['Hello']).slice(0, 2),
        sseEvent({
          error: { message: `stream failed, key ${PROVIDER_KEY}`, type: 'server_error' },
        }),
      ]),
    );
    upstream.enqueue(
      ndjsonResponse([
        ...ollamaNdjsonLines(['Hello'], { done: false }),
        `${JSON.stringify({ error: `runner crashed; Bearer ${PROVIDER_KEY}` })}\n`,
      ]),
    );
    for (const path of [CHAT, OLLAMA_CHAT]) {
      const response = await post(path, chatBody(true, PROMPT_CANARY), {});
      expect(response.status).toBe(200);
      const events = await readSseEvents(response);
      expect(events.at(-1)?.data).toMatch(/"error"/);
      clientBodies.push(events.map((event) => event.data).join('\n'));
    }

    // The client saw no key either.
    for (const body of clientBodies) {
      expect(body).not.toContain(PROVIDER_KEY);
      expect(body).not.toContain(CLIENT_KEY);
    }

    const text = gateway.logs.text();
    expect(text).not.toContain(CLIENT_KEY);
    expect(text).not.toContain(PROVIDER_KEY);
    expect(text).not.toContain('canary-provider-key');
    expect(text).not.toContain(PROMPT_CANARY);
    expect(text).not.toContain('purple walrus');
    expect(text).not.toContain(DEFAULT_REPLY);
    expect(text).not.toContain('from the fake upstream');

    // One JSON object per line; one access line per request, each with its request id.
    const lines = gateway.logs
      .text()
      .split('\n')
      .filter((line) => line !== '');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const access = accessLines();
    expect(access).toHaveLength(requestsSent);
    for (const entry of access) {
      expect(typeof entry.requestId === 'string' && entry.requestId !== '').toBe(true);
      expect(entry).toHaveProperty('status');
    }
    expect(new Set(access.map((entry) => entry.requestId)).size).toBe(access.length);
    // Every other line written while serving a request carries that request's id.
    const ids = new Set(access.map((entry) => entry.requestId));
    for (const entry of gateway.logs.entries()) {
      if (entry.msg !== 'request completed' && 'requestId' in entry) {
        expect(ids.has(entry.requestId)).toBe(true);
      }
    }
    const errorLines = gateway.logs
      .entries()
      .filter((entry) => entry.level === 'error' || entry.level === 'warn');
    expect(errorLines.length).toBeGreaterThan(0);
    for (const entry of errorLines) expect(entry.requestId).toEqual(expect.any(String));
  });

  it('a hostile x-request-id cannot forge or split a log line', async () => {
    const before = gateway.logs.lines.length;
    const accessBefore = accessLines().length;
    const forged = '{"level":"fatal","msg":"forged line"}';

    // CR/LF inside the header value: refused by the HTTP parser, never reaches the app or the log.
    for (const separator of ['\r\n ', '\r', '\n']) {
      const reply = await rawRequest(
        port,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc${separator}${forged}\r\nConnection: close\r\n\r\n`,
      );
      expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    }

    // Values the parser lets through: quotes, braces, U+2028 as raw bytes, a very long id.
    const hostile = [
      `abc","msg":"forged line","x":"`,
      Buffer.concat([
        Buffer.from('abc'),
        Buffer.from([0xe2, 0x80, 0xa8]),
        Buffer.from(forged),
      ]).toString('latin1'),
      'a'.repeat(65),
    ];
    for (const value of hostile) {
      const reply = await rawRequest(
        port,
        Buffer.from(
          `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${value}\r\nConnection: close\r\n\r\n`,
          'latin1',
        ),
      );
      expect(reply).toMatch(/^HTTP\/1\.1 200 /);
      const echoed = /^x-request-id: (.*)$/im.exec(reply)?.[1]?.trim();
      // Replaced, never reflected: a fresh UUID.
      expect(echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    // A plain id is trusted and reflected.
    const plain = await fetch(`${gateway.url}/healthz`, {
      headers: { 'x-request-id': 'abc.DEF_1-2' },
    });
    expect(plain.headers.get('x-request-id')).toBe('abc.DEF_1-2');
    await plain.text();

    const added = gateway.logs.lines.slice(before);
    // Exactly one line per request that reached the app; each a single JSON object.
    expect(accessLines().length - accessBefore).toBe(hostile.length + 1);
    expect(added).toHaveLength(hostile.length + 1);
    for (const line of added) {
      expect(line.trimEnd().includes('\n')).toBe(false);
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry.msg).toBe('request completed');
      expect(entry.level).toBe('info');
    }
    expect(gateway.logs.text()).not.toContain('forged line');
  });
});
