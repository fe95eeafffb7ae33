import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../config/gateway-config.js';
import { deploymentsOf } from './deployments-of.js';

const models: ModelConfig[] = [
  {
    name: 'llama-70b',
    aliases: ['llama'],
    deployments: [
      { provider: 'cerebras', model: 'llama-3.3-70b', weight: 3 },
      { provider: 'groq', model: 'llama-3.3-70b-versatile', weight: 1 },
    ],
    fallbacks: ['small'],
  },
  {
    name: 'small',
    aliases: [],
    deployments: [{ provider: 'local', model: 'llama3.2', weight: 1 }],
    fallbacks: ['llama-70b'],
  },
];

describe('deploymentsOf', () => {
  const of = deploymentsOf(models, new Set(['cerebras', 'groq', 'local']), 'local');

  it('expands a public name or alias to its deployments and its fallbacks', () => {
    const all = ['cerebras/llama-3.3-70b', 'groq/llama-3.3-70b-versatile', 'local/llama3.2'];
    expect(of('llama', undefined)).toEqual(all);
    expect(of('llama-70b', undefined)).toEqual(all);
    // Fallback cycles are refused by the config loader; here they at least end.
    expect(of('small', undefined)).toEqual(['local/llama3.2', ...all.slice(0, 2)]);
  });

  it('takes provider/model of a configured provider as it is, and the rest as the default', () => {
    expect(of('groq/mixtral', undefined)).toEqual(['groq/mixtral']);
    expect(of('hf.co/org/model', undefined)).toEqual(['local/hf.co/org/model']);
    expect(of('qwen3', undefined)).toEqual(['local/qwen3']);
  });

  it('is the pinned provider alone on a pinned route', () => {
    expect(of('llama', 'cerebras')).toEqual(['cerebras/llama']);
  });
});
