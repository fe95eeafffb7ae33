import { describe, expect, it } from 'vitest';
import { createFakeProvider } from '../../test/helpers/fake-provider.js';
import { resolveModel } from './resolve-model.js';

const ollama = createFakeProvider('ollama');
const cerebras = createFakeProvider('cerebras');
const providers = new Map([
  ['ollama', ollama],
  ['cerebras', cerebras],
]);

describe('resolveModel', () => {
  it.each([
    ['cerebras/llama-3.3-70b', cerebras, 'llama-3.3-70b'],
    ['ollama/llama3.2', ollama, 'llama3.2'],
    ['ollama/hf.co/org/model:Q4', ollama, 'hf.co/org/model:Q4'],
    ['llama3.2', ollama, 'llama3.2'],
    ['hf.co/org/model', ollama, 'hf.co/org/model'],
    ['openai/gpt-4o', ollama, 'openai/gpt-4o'],
    ['cerebras/', ollama, 'cerebras/'],
    ['/cerebras', ollama, '/cerebras'],
  ])('%s → %s', (model, provider, upstreamModel) => {
    const target = resolveModel(model, providers, ollama);
    expect(target.provider).toBe(provider);
    expect(target.model).toBe(upstreamModel);
  });
});
