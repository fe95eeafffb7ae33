import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors/error-codes.js';
import { VENDORS } from '../src/providers/registry.js';
import type { VendorEnvironment } from '../src/providers/vendor.js';

/** Every variable the settings loader reads (from its source) and every vendor names. */
function variablesRead(): string[] {
  const source = readFileSync(new URL('../src/config/settings.ts', import.meta.url), 'utf8');
  const names = [...source.matchAll(/\b(?:read|integer|boolean|url|list)\('([A-Z0-9_]+)'/g)].map(
    (match) => match[1] ?? '',
  );
  for (const vendor of VENDORS) {
    const environment: VendorEnvironment | undefined = vendor.environment;
    if (environment === undefined) continue;
    names.push(environment.baseUrlVariable);
    if (environment.apiKeyVariable !== undefined) names.push(environment.apiKeyVariable);
  }
  return [...new Set(names)].sort();
}

describe('the docs stay true to the settings', () => {
  const variables = variablesRead();

  it('finds the variables', () => {
    expect(variables).toContain('ALLOWED_API_KEYS');
    expect(variables).toEqual(expect.arrayContaining(['OLLAMA_HOST', 'CEREBRAS_API_KEY']));
    expect(variables.length).toBeGreaterThan(20);
  });

  it.each(['docs/configuration.md', '.env.example'])('%s documents every variable', (file) => {
    const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    const missing = variables.filter((name) => !text.includes(name));
    expect(missing).toEqual([]);
  });
});

/** The rows of the codes table of docs/errors.md: `| status | type | code | when |`. */
function documentedCodes(): { status: number; type: string; code: string; when: string }[] {
  const text = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const section = text.slice(
    text.indexOf('\n## Codes\n'),
    text.indexOf('\n## ', text.indexOf('\n## Codes\n') + 1),
  );
  return section
    .split('\n')
    .filter((line) => /^\| \d{3} /.test(line))
    .map((line) => {
      const [status = '', type = '', code = '', when = ''] = line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      return {
        status: Number(status),
        type: type.replaceAll('`', ''),
        code: code.replaceAll('`', ''),
        when,
      };
    });
}

describe('docs/errors.md stays true to the error catalogue', () => {
  const catalogue = Object.values(ERROR_CODES).map(({ status, type, code, when }) => ({
    status,
    type,
    code,
    when,
  }));
  const documented = documentedCodes();

  it('finds the table', () => {
    expect(documented.length).toBeGreaterThan(20);
  });

  it('lists every code of the catalogue, with its status, type and when', () => {
    const missing = catalogue.filter(
      (entry) => !documented.some((row) => JSON.stringify(row) === JSON.stringify(entry)),
    );
    expect(missing).toEqual([]);
  });

  it('names no code that the catalogue does not have, and none twice', () => {
    const known = new Set<string>(catalogue.map((entry) => entry.code));
    expect(documented.map((row) => row.code).filter((code) => !known.has(code))).toEqual([]);
    expect(documented).toHaveLength(catalogue.length);
  });
});
