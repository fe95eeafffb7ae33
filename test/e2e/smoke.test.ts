import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway-harness.js';

const gateway = useGateway();

describe('smoke', () => {
  it('answers through both providers with the openai SDK', async () => {
    for (const prefix of ['', 'ollama', 'cerebras']) {
      const completion = await gateway.client(prefix).chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.choices[0]?.message.content).toBe('Hello from the fake upstream!');
      const stream = await gateway.client(prefix).chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: unknown;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe('Hello from the fake upstream!');
      expect(usage).toBeTruthy();
    }
  });
});
