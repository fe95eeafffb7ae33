import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Every variable the settings loader reads, taken from its source. */
function variablesRead(): string[] {
  const source = readFileSync(new URL('../src/config/settings.ts', import.meta.url), 'utf8');
  const names = [...source.matchAll(/\b(?:read|integer|boolean|url|list)\('([A-Z0-9_]+)'/g)].map(
    (match) => match[1] ?? '',
  );
  return [...new Set(names)].sort();
}

describe('the docs stay true to the settings', () => {
  const variables = variablesRead();

  it('finds the variables', () => {
    expect(variables).toContain('ALLOWED_API_KEYS');
    expect(variables.length).toBeGreaterThan(20);
  });

  it.each(['docs/configuration.md', '.env.example'])('%s documents every variable', (file) => {
    const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    const missing = variables.filter((name) => !text.includes(name));
    expect(missing).toEqual([]);
  });
});
