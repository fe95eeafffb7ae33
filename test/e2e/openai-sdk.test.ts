/**
 * The client contract end to end: a real gateway on 127.0.0.1 in front of the fake upstream, the
 * official `openai` SDK as the client. This file: every endpoint through both providers, health and
 * readiness. Headers, Ollama translation, the Cerebras relay and errors have their own
 * `openai-sdk-*.test.ts` files.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REPLY } from '../helpers/fake-upstream-wire.js';
import {
  type GatewayHarness,
  PROVIDER_KEY,
  startGateway,
  useGateway,
} from '../helpers/gateway-harness.js';
import { collect, MESSAGES, onlyRequest, UUID } from '../helpers/openai-sdk-helpers.js';
import { unusedPort } from '../helpers/unused-port.js';

type Chunk = OpenAI.Chat.ChatCompletionChunk;

/** `created` of the fake's answers: its `created_at` (2025-10-09T08:53:20Z) in unix seconds. */
const CREATED = 1_760_000_000;
const COMPLETION_ID = /^chatcmpl-[A-Za-z0-9_-]{8,}$/;

function textOf(chunks: readonly Chunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

const gateway = useGateway();

describe('chat completions on every route', () => {
  const ollamaRoutes = [
    { prefix: '', label: '/v1 (default provider = ollama)' },
    { prefix: 'ollama', label: '/ollama/v1' },
  ];

  for (const { prefix, label } of ollamaRoutes) {
    it(`${label}: JSON is translated to /api/chat and back`, async () => {
      const completion = await gateway.client(prefix).chat.completions.create({
        model: 'llama3.2',
        messages: MESSAGES,
      });
      const sent = onlyRequest(gateway.upstream);
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/api/chat');
      expect(sent.json).toMatchObject({ model: 'llama3.2', stream: false });
      expect(completion.id).toMatch(COMPLETION_ID);
      expect(completion).toMatchObject({
        object: 'chat.completion',
        created: CREATED,
        model: 'llama3.2',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: DEFAULT_REPLY },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
      });
    });

    it(`${label}: streaming is translated from NDJSON to SSE chunks`, async () => {
      const stream = await gateway.client(prefix).chat.completions.create({
        model: 'llama3.2',
        messages: MESSAGES,
        stream: true,
      });
      const chunks = await collect(stream);
      expect(onlyRequest(gateway.upstream).json).toMatchObject({ stream: true });
      expect(textOf(chunks)).toBe(DEFAULT_REPLY);
      const first = chunks[0];
      expect(first?.id).toMatch(COMPLETION_ID);
      for (const chunk of chunks) {
        expect(chunk).toMatchObject({ id: first?.id, object: 'chat.completion.chunk' });
      }
      expect(first?.choices[0]?.delta.role).toBe('assistant');
      const finishReasons = chunks.map((chunk) => chunk.choices[0]?.finish_reason ?? null);
      expect(finishReasons.filter((reason) => reason !== null)).toEqual(['stop']);
      expect(finishReasons.at(-1)).toBe('stop');
    });
  }

  it('/cerebras/v1: JSON is relayed to {base}/chat/completions', async () => {
    const completion = await gateway.client('cerebras').chat.completions.create({
      model: 'llama3.1-8b',
      messages: MESSAGES,
    });
    const sent = onlyRequest(gateway.upstream);
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.json).toMatchObject({ model: 'llama3.1-8b', stream: false, messages: MESSAGES });
    expect(completion).toMatchObject({
      id: 'chatcmpl-fake-0001',
      object: 'chat.completion',
      created: CREATED,
      model: 'llama3.1-8b',
      choices: [{ index: 0, message: { content: DEFAULT_REPLY }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
    });
  });

  it('/cerebras/v1: streaming is relayed chunk by chunk', async () => {
    const stream = await gateway.client('cerebras').chat.completions.create({
      model: 'llama3.1-8b',
      messages: MESSAGES,
      stream: true,
    });
    const chunks = await collect(stream);
    expect(onlyRequest(gateway.upstream).json).toMatchObject({ stream: true });
    expect(textOf(chunks)).toBe(DEFAULT_REPLY);
    expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set(['chatcmpl-fake-0001']));
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });
});

describe('models', () => {
  const ollamaModels = [
    {
      id: 'llama3.2:latest',
      object: 'model',
      // modified_at 2025-09-30T12:00:00.000000000Z (nanoseconds, as Ollama writes it)
      created: 1_759_233_600,
      owned_by: 'ollama',
    },
  ];

  it('GET /v1/models merges the default provider by name and every provider prefixed', async () => {
    const page = await gateway.client('').models.list();
    const cerebrasIds = ['llama3.1-8b', 'llama-3.3-70b', 'qwen-3-32b'];
    expect(page.data.map((model) => model.id)).toEqual([
      ...ollamaModels.map((model) => model.id),
      ...ollamaModels.map((model) => `ollama/${model.id}`),
      ...cerebrasIds.map((id) => `cerebras/${id}`),
    ]);
    expect(page.data.slice(0, ollamaModels.length)).toEqual(ollamaModels);
    const paths = gateway.upstream.requests.map((sent) => `${sent.method} ${sent.path}`).sort();
    expect(paths).toEqual(['GET /api/tags', 'GET /v1/models']);
    // Cached: a second listing asks no upstream.
    await gateway.client('').models.list();
    expect(gateway.upstream.requests).toHaveLength(2);
  });

  it('GET /ollama/v1/models is the same mapped list, with the request id forwarded', async () => {
    const { data: page, response } = await gateway.client('ollama').models.list().withResponse();
    expect(page.data).toEqual(ollamaModels);
    const sent = onlyRequest(gateway.upstream);
    expect(sent.path).toBe('/api/tags');
    expect(sent.headers['x-request-id']).toBe(response.headers.get('x-request-id'));
  });

  it('GET /cerebras/v1/models relays the OpenAI list', async () => {
    const page = await gateway.client('cerebras').models.list();
    expect(page.data).toEqual(
      ['llama3.1-8b', 'llama-3.3-70b', 'qwen-3-32b'].map((id) => ({
        id,
        object: 'model',
        created: CREATED,
        owned_by: 'Cerebras',
      })),
    );
    const sent = onlyRequest(gateway.upstream);
    expect(`${sent.method} ${sent.path}`).toBe('GET /v1/models');
    expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
  });
});

describe('health and readiness', () => {
  let down: GatewayHarness;
  let fresh: GatewayHarness;
  beforeAll(async () => {
    down = await startGateway({ OLLAMA_HOST: `http://127.0.0.1:${await unusedPort()}` });
    fresh = await startGateway({});
  });
  afterAll(async () => {
    await down.close();
    await fresh.close();
  });

  it('GET /healthz is 200 without a key and calls no upstream', async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('x-request-id')).toMatch(UUID);
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  it('GET /readyz is 200 without a key, names each provider, and its probes serve /v1/models', async () => {
    const response = await fetch(`${fresh.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      providers: { ollama: 'ok', cerebras: 'ok' },
    });
    const probes = fresh.upstream.requests.map((request) => request.path).sort();
    expect(probes).toEqual(['/api/tags', '/v1/models']);
    await fresh.client('').models.list();
    expect(fresh.upstream.requests).toHaveLength(2);
  });

  it('GET /readyz is 503 when the default provider (ollama) is unreachable', async () => {
    const response = await fetch(`${down.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'unavailable',
      providers: { ollama: 'unavailable', cerebras: 'ok' },
    });
    // Liveness does not depend on the upstreams.
    expect((await fetch(`${down.url}/healthz`)).status).toBe(200);
  });
});
