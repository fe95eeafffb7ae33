import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import type { Usage } from '../../openai/chat-types.js';
import { ollamaUsageTap } from './ollama-usage-tap.js';

async function through(chunks: readonly string[]): Promise<{ body: string; usage?: Usage }> {
  let usage: Usage | undefined;
  const tap = ollamaUsageTap((reported) => {
    usage = reported;
  });
  const body = await text(Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(tap));
  return usage === undefined ? { body } : { body, usage };
}

const final = '{"model":"m","done":true,"prompt_eval_count":26,"eval_count":290}\n';

describe('ollamaUsageTap', () => {
  it('relays a stream unchanged and reports the final line’s counts, wherever the chunks split', async () => {
    const stream = `{"model":"m","message":{"content":"Hé"},"done":false}\n${final}`;
    for (let at = 0; at <= stream.length; at += 7) {
      const result = await through([stream.slice(0, at), stream.slice(at)]);
      expect(result.body).toBe(stream);
      expect(result.usage).toEqual({
        prompt_tokens: 26,
        completion_tokens: 290,
        total_tokens: 316,
      });
    }
  });

  it('reports an embedding’s prompt count, with no output tokens', async () => {
    const { usage } = await through(['{"model":"m","embeddings":[[0.1]],"prompt_eval_count":4}']);
    expect(usage).toEqual({ prompt_tokens: 4, completion_tokens: 0, total_tokens: 4 });
  });

  it('reports nothing for a cut stream, an error line or a body without counts', async () => {
    expect((await through(['{"message":{"content":"a"},"done":false}\n'])).usage).toBeUndefined();
    expect((await through(['{"error":"model not found"}'])).usage).toBeUndefined();
    expect((await through(['{"done":true,"eval_count":"many"}'])).usage).toBeUndefined();
    expect((await through(['not json'])).usage).toBeUndefined();
  });

  it('finds the final line after a long stream, keeping only its tail', async () => {
    const long = `${'{"done":false,"message":{"content":"x"}}\n'.repeat(5_000)}${final}`;
    expect((await through([long])).usage?.total_tokens).toBe(316);
  });
});
