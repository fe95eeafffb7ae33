import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigFileDefaults, loadConfigFile, parseConfig } from './config-file.js';
import { findCycles } from './config-models.js';
import {
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
  type GatewayConfig,
} from './gateway-config.js';
import { ConfigError, type Environment } from './settings.js';

const EXAMPLE_PATH = fileURLToPath(new URL('../../gateway.example.yaml', import.meta.url));
const defaults: ConfigFileDefaults = {
  timeouts: { connectTimeoutMs: 10_000, firstByteTimeoutMs: 120_000, idleTimeoutMs: 60_000 },
};
const env: Environment = { CEREBRAS_API_KEY: 'csk-test-key', GROQ_API_KEY: 'gsk-test-key' };
/** The smallest valid file; cases append to or replace parts of it. */
const LOCAL = 'providers:\n  local: { kind: ollama }\n';

function problemsOf(text: string, fileName = 'gateway.yaml', environment = env): readonly string[] {
  try {
    parseConfig(text, fileName, environment, defaults);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Asserts one problem is `gateway.yaml: <path>: …<fragment>…`. */
function expectProblem(text: string, path: string, fragment: string): void {
  const prefix = path === '' ? 'gateway.yaml: ' : `gateway.yaml: ${path}: `;
  const problems = problemsOf(text);
  expect(
    problems.some((problem) => problem.startsWith(prefix) && problem.includes(fragment)),
    `expected "${prefix}…${fragment}…" in:\n${problems.join('\n')}`,
  ).toBe(true);
}

describe('the example file', () => {
  it('loads into the expected config with every default filled', () => {
    const config = loadConfigFile(EXAMPLE_PATH, env, defaults);
    const expected: GatewayConfig = {
      providers: [
        {
          name: 'local',
          kind: 'ollama',
          baseUrl: 'http://localhost:11434',
          headers: {},
          timeouts: defaults.timeouts,
        },
        {
          name: 'gpu',
          kind: 'ollama',
          baseUrl: 'http://gpu-box.internal:11434',
          headers: {},
          timeouts: {
            connectTimeoutMs: 10_000,
            firstByteTimeoutMs: 300_000,
            idleTimeoutMs: 60_000,
          },
        },
        {
          name: 'cerebras',
          kind: 'cerebras',
          baseUrl: 'https://api.cerebras.ai/v1',
          apiKey: 'csk-test-key',
          headers: {},
          timeouts: defaults.timeouts,
        },
        {
          name: 'groq',
          kind: 'openai-compatible',
          baseUrl: 'https://api.groq.com/openai/v1',
          apiKey: 'gsk-test-key',
          headers: {},
          timeouts: { connectTimeoutMs: 5_000, firstByteTimeoutMs: 60_000, idleTimeoutMs: 30_000 },
        },
      ],
      prices: new Map([
        ['llama-3.3-70b', { inputPerMillion: 0.85, outputPerMillion: 1.2 }],
        ['local/llama3.2', { inputPerMillion: 0, outputPerMillion: 0 }],
      ]),
      models: [
        {
          name: 'llama-70b',
          aliases: ['llama', 'fast'],
          deployments: [
            { provider: 'cerebras', model: 'llama-3.3-70b', weight: 3, maxConcurrent: 32 },
            { provider: 'groq', model: 'llama-3.3-70b-versatile', weight: 1 },
          ],
          fallbacks: ['llama-small'],
        },
        {
          name: 'llama-small',
          aliases: [],
          deployments: [
            { provider: 'gpu', model: 'llama3.2', weight: 2 },
            { provider: 'local', model: 'llama3.2', weight: 1 },
          ],
          fallbacks: [],
        },
      ],
      defaultProvider: 'local',
      retry: DEFAULT_RETRY_POLICY,
      cooldown: DEFAULT_COOLDOWN_POLICY,
    };
    expect(config).toStrictEqual(expected);
  });

  it('names every variable it needs', () => {
    try {
      loadConfigFile(EXAMPLE_PATH, {}, defaults);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toStrictEqual([
        `${EXAMPLE_PATH}: providers.cerebras.api_key: environment variable CEREBRAS_API_KEY is not set (or empty)`,
        `${EXAMPLE_PATH}: providers.groq.api_key: environment variable GROQ_API_KEY is not set (or empty)`,
      ]);
    }
  });
});

describe('loadConfigFile', () => {
  const directory = mkdtempSync(join(tmpdir(), 'config-file-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('reads JSON strictly and keeps file order', () => {
    const path = join(directory, 'gateway.json');
    writeFileSync(
      path,
      JSON.stringify({
        providers: {
          zeta: { kind: 'ollama', base_url: 'http://zeta:11434/' },
          alpha: { kind: 'cerebras', api_key: `\${CEREBRAS_API_KEY}` },
        },
        models: { m: { deployments: [{ provider: 'alpha', model: 'x' }] } },
        routing: { retry: { max_attempts: 3 } },
      }),
    );
    const config = loadConfigFile(path, env, defaults);
    expect(config.providers.map((provider) => provider.name)).toStrictEqual(['zeta', 'alpha']);
    expect(config.providers[0]?.baseUrl).toBe('http://zeta:11434');
    expect(config.defaultProvider).toBe('zeta');
    expect(config.retry).toStrictEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 3 });
  });

  it('refuses YAML-only syntax in a .json file without quoting its text', () => {
    const problems = problemsOf('{"providers": {"a": {"kind": sk-secret-value}}}', 'g.json');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^g\.json: not valid JSON/);
    expect(problems.join('\n')).not.toContain('sk-secret-value');
    expect(problemsOf('{"providers": {},}', 'g.json')[0]).toMatch(
      /^g\.json: not valid JSON: .* at line 1, column 18$/,
    );
  });

  it('does not quote source text from YAML syntax errors', () => {
    const problems = problemsOf(
      'providers:\n  l: { kind: ollama, api_key: "sk-\\qsecret" }\n  m:\n    api_key: |sk-other-secret\n      x\n',
    );
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).not.toMatch(/secret|\\q/);
  });

  it('reports duplicate keys, which JSON.parse would drop silently', () => {
    const text = '{"providers": {"a": {"kind": "ollama"}, "a": {"kind": "ollama"}}}';
    expect(problemsOf(text, 'g.json')).toStrictEqual([
      'g.json: line 1, column 41: Map keys must be unique',
    ]);
  });

  it('reports an unreadable file by its path and error code', () => {
    const path = join(directory, 'missing.yaml');
    expect(() => loadConfigFile(path, env, defaults)).toThrow(
      new ConfigError([`${path}: cannot read the config file (ENOENT)`]),
    );
  });
});

describe('parseConfig', () => {
  it('fills defaults for a minimal file', () => {
    expect(parseConfig(LOCAL, 'gateway.yaml', {}, defaults)).toStrictEqual({
      providers: [
        {
          name: 'local',
          kind: 'ollama',
          baseUrl: 'http://localhost:11434',
          headers: {},
          timeouts: defaults.timeouts,
        },
      ],
      models: [],
      prices: new Map(),
      defaultProvider: 'local',
      retry: DEFAULT_RETRY_POLICY,
      cooldown: DEFAULT_COOLDOWN_POLICY,
    });
  });

  it('returns a deeply frozen config', () => {
    const config = loadConfigFile(EXAMPLE_PATH, env, defaults);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.providers)).toBe(true);
    expect(Object.isFrozen(config.providers[0]?.timeouts)).toBe(true);
    expect(Object.isFrozen(config.providers[0]?.headers)).toBe(true);
    expect(Object.isFrozen(config.models[0]?.deployments[0])).toBe(true);
    expect(Object.isFrozen(config.models[0]?.aliases)).toBe(true);
    expect(Object.isFrozen(config.retry)).toBe(true);
  });

  it(`substitutes \${VAR} in base_url, api_key and header values`, () => {
    const text = `providers:
  groq:
    kind: openai-compatible
    base_url: "https://\${GROQ_HOST}/openai/v1"
    api_key: "\${GROQ_API_KEY}"
    headers: { X-Team: "team-\${TEAM_ID}", Authorization-Extra: "Bearer \${TOKEN}" }
`;
    const config = parseConfig(
      text,
      'gateway.yaml',
      { GROQ_HOST: 'api.groq.com', GROQ_API_KEY: ' gsk-1 ', TEAM_ID: '42', TOKEN: 't' },
      defaults,
    );
    expect(config.providers[0]).toMatchObject({
      baseUrl: 'https://api.groq.com/openai/v1',
      apiKey: 'gsk-1',
      headers: { 'x-team': 'team-42', 'authorization-extra': 'Bearer t' },
    });
  });

  it('names a missing or empty variable, never a value', () => {
    const text = `providers:
  groq:
    kind: openai-compatible
    base_url: https://api.groq.com/openai/v1
    api_key: "\${GROQ_API_KEY}"
    headers: { X-Team: "\${TEAM_ID}" }
`;
    expect(problemsOf(text, 'gateway.yaml', { GROQ_API_KEY: '  ' })).toStrictEqual([
      'gateway.yaml: providers.groq.api_key: environment variable GROQ_API_KEY is not set (or empty)',
      'gateway.yaml: providers.groq.headers.X-Team: environment variable TEAM_ID is not set (or empty)',
    ]);
  });

  it('refuses a literal api key without repeating it', () => {
    const text = `providers:\n  groq: { kind: openai-compatible, base_url: "https://x.test", api_key: sk-live-abc123 }\n`;
    const problems = problemsOf(text);
    expect(problems).toStrictEqual([
      `gateway.yaml: providers.groq.api_key: must be a \${VAR} reference: write it as \${VAR}; keys never go in the file`,
    ]);
    expect(problems.join('\n')).not.toContain('sk-live-abc123');
  });

  it('refuses a literal credential header without repeating it', () => {
    const text = `${LOCAL}  other: { kind: ollama, headers: { Authorization: "Bearer hunter2-secret" } }\n`;
    const problems = problemsOf(text);
    expect(problems).toStrictEqual([
      `gateway.yaml: providers.other.headers.Authorization: carries a credential: write it as \${VAR}; keys never go in the file`,
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('reports several problems at once', () => {
    const text = `default_provider: nowhere
providers:
  groq: { kind: openai-compatible, base_ulr: https://x.test }
models:
  m: { deployments: [{ provider: ghost, model: x, weight: 0 }] }
routing: { retry: { max_attempts: 11 } }
`;
    expect(problemsOf(text)).toStrictEqual([
      'gateway.yaml: providers.groq.base_ulr: unknown key (expected one of: kind, base_url, api_key, headers, timeouts)',
      'gateway.yaml: providers.groq.base_url: is required for kind openai-compatible',
      'gateway.yaml: default_provider: unknown provider "nowhere"',
      'gateway.yaml: models.m.deployments[0].provider: unknown provider "ghost"',
      'gateway.yaml: models.m.deployments[0].weight: must be an integer ≥ 1',
      'gateway.yaml: routing.retry.max_attempts: must be an integer from 1 to 10',
    ]);
  });

  it('accepts an alias as a fallback and stores the model name', () => {
    const text = `${LOCAL}models:
  a: { deployments: [{ provider: local, model: x }], fallbacks: [bee] }
  b: { aliases: [bee], deployments: [{ provider: local, model: y }] }
`;
    expect(parseConfig(text, 'gateway.yaml', env, defaults).models[0]?.fallbacks).toStrictEqual([
      'b',
    ]);
  });

  it('accepts names with a slash whose prefix is not a provider', () => {
    const text = `${LOCAL}models:\n  meta-llama/Llama-3: { deployments: [{ provider: local, model: x }] }\n`;
    expect(parseConfig(text, 'gateway.yaml', env, defaults).models[0]?.name).toBe(
      'meta-llama/Llama-3',
    );
  });
});

/** One failing case per rule: [rule, file text, path, message fragment]. */
const RULES: readonly (readonly [string, string, string, string])[] = [
  // file level
  ['YAML syntax', 'providers: [unclosed\n', '', 'line 2, column 1'],
  ['empty file', '', '', 'is empty'],
  ['not a mapping', '- a\n- b\n', '', 'must be a mapping'],
  ['unknown top-level key', `${LOCAL}model: {}\n`, 'model', 'unknown key'],
  ['no providers', 'providers: {}\n', 'providers', 'at least one provider'],
  ['providers missing', 'models: {}\n', 'providers', 'at least one provider'],
  ['unknown default_provider', `default_provider: gpu\n${LOCAL}`, 'default_provider', '"gpu"'],
  // providers
  ['bad provider name', 'providers:\n  Groq: { kind: ollama }\n', 'providers.Groq', 'lowercase'],
  [
    'long provider name',
    `providers:\n  ${'a'.repeat(65)}: { kind: ollama }\n`,
    `providers["${'a'.repeat(48)}…"]`,
    'lowercase',
  ],
  ['reserved provider name', 'providers:\n  v1: { kind: ollama }\n', 'providers.v1', 'reserved'],
  ['reserved name api', 'providers:\n  api: { kind: ollama }\n', 'providers.api', 'reserved'],
  ['provider not a mapping', 'providers:\n  local:\n', 'providers.local', 'must be a mapping'],
  [
    'unknown provider key',
    'providers:\n  local: { kind: ollama, base_ulr: x }\n',
    'providers.local.base_ulr',
    'unknown key',
  ],
  [
    'missing kind',
    'providers:\n  local: { base_url: "http://a" }\n',
    'providers.local.kind',
    'is required',
  ],
  [
    'unknown kind',
    'providers:\n  local: { kind: olama }\n',
    'providers.local.kind',
    'must be one of ollama, openai-compatible, cerebras',
  ],
  [
    'openai-compatible without base_url',
    'providers:\n  g: { kind: openai-compatible }\n',
    'providers.g.base_url',
    'is required',
  ],
  [
    'cerebras without api_key',
    'providers:\n  c: { kind: cerebras }\n',
    'providers.c.api_key',
    'is required',
  ],
  [
    'non-http base_url',
    'providers:\n  l: { kind: ollama, base_url: "ftp://a" }\n',
    'providers.l.base_url',
    'must be an http(s) URL',
  ],
  [
    'unparsable base_url',
    'providers:\n  l: { kind: ollama, base_url: "not a url" }\n',
    'providers.l.base_url',
    'must be an http(s) URL',
  ],
  [
    'credentials in base_url',
    'providers:\n  l: { kind: ollama, base_url: "http://u:p@a" }\n',
    'providers.l.base_url',
    'must not contain credentials',
  ],
  [
    'query in base_url',
    'providers:\n  l: { kind: ollama, base_url: "http://a/?x=1" }\n',
    'providers.l.base_url',
    'query or fragment',
  ],
  [
    'base_url not a string',
    'providers:\n  l: { kind: ollama, base_url: 3 }\n',
    'providers.l.base_url',
    'must be a string (quote it)',
  ],
  [
    'malformed reference',
    `providers:\n  l: { kind: ollama, base_url: "http://\${HOST" }\n`,
    'providers.l.base_url',
    'malformed',
  ],
  [
    'api_key with extra text',
    `providers:\n  l: { kind: ollama, api_key: "x\${CEREBRAS_API_KEY}" }\n`,
    'providers.l.api_key',
    'keys never go in the file',
  ],
  [
    'bad header name',
    'providers:\n  l: { kind: ollama, headers: { "X Team": a } }\n',
    'providers.l.headers["X Team"]',
    'not a valid HTTP header name',
  ],
  [
    'gateway header',
    'providers:\n  l: { kind: ollama, headers: { Host: a } }\n',
    'providers.l.headers.Host',
    'set by the gateway',
  ],
  [
    'authorization with api_key',
    `providers:\n  l: { kind: ollama, api_key: "\${GROQ_API_KEY}", headers: { Authorization: "\${GROQ_API_KEY}" } }\n`,
    'providers.l.headers.Authorization',
    'conflicts with api_key',
  ],
  [
    'header twice',
    'providers:\n  l: { kind: ollama, headers: { X-A: a, x-a: b } }\n',
    'providers.l.headers.x-a',
    'given twice',
  ],
  [
    'header line break',
    'providers:\n  l: { kind: ollama, headers: { X-A: "a\\r\\nb" } }\n',
    'providers.l.headers.X-A',
    'line breaks',
  ],
  [
    'headers not a mapping',
    'providers:\n  l: { kind: ollama, headers: [a] }\n',
    'providers.l.headers',
    'must be a mapping',
  ],
  [
    'timeout zero',
    'providers:\n  l: { kind: ollama, timeouts: { idle_ms: 0 } }\n',
    'providers.l.timeouts.idle_ms',
    'must be an integer from 1',
  ],
  [
    'timeout fraction',
    'providers:\n  l: { kind: ollama, timeouts: { connect_ms: 1.5 } }\n',
    'providers.l.timeouts.connect_ms',
    'integer',
  ],
  [
    'timeout past the timer limit',
    'providers:\n  l: { kind: ollama, timeouts: { first_byte_ms: 2147483648 } }\n',
    'providers.l.timeouts.first_byte_ms',
    'to 2147483647',
  ],
  [
    'timeout as string',
    'providers:\n  l: { kind: ollama, timeouts: { idle_ms: "5000" } }\n',
    'providers.l.timeouts.idle_ms',
    'integer',
  ],
  [
    'unknown timeout key',
    'providers:\n  l: { kind: ollama, timeouts: { read_ms: 5 } }\n',
    'providers.l.timeouts.read_ms',
    'unknown key',
  ],
  // prices
  ['prices not a mapping', `${LOCAL}prices: [a]\n`, 'prices', 'must be a mapping'],
  [
    'negative price',
    `${LOCAL}prices:\n  m: { input_per_mtok: -1, output_per_mtok: 1 }\n`,
    'prices.m.input_per_mtok',
    'must be a number ≥ 0',
  ],
  [
    'price missing a field',
    `${LOCAL}prices:\n  m: { input_per_mtok: 1 }\n`,
    'prices.m.output_per_mtok',
    'is required',
  ],
  [
    'unknown price key',
    `${LOCAL}prices:\n  m: { input_per_mtok: 1, output_per_mtok: 1, cached: 2 }\n`,
    'prices.m.cached',
    'unknown key',
  ],
  // models
  ['models not a mapping', `${LOCAL}models: [a]\n`, 'models', 'must be a mapping'],
  [
    'unknown model key',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: x }], fallback: [] }\n`,
    'models.m.fallback',
    'unknown key',
  ],
  [
    'no deployments',
    `${LOCAL}models:\n  m: { aliases: [x] }\n`,
    'models.m.deployments',
    'at least one deployment',
  ],
  [
    'empty deployments',
    `${LOCAL}models:\n  m: { deployments: [] }\n`,
    'models.m.deployments',
    'at least one deployment',
  ],
  [
    'deployments not a list',
    `${LOCAL}models:\n  m: { deployments: { provider: local } }\n`,
    'models.m.deployments',
    'must be a list',
  ],
  [
    'unknown deployment key',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: x, wieght: 2 }] }\n`,
    'models.m.deployments[0].wieght',
    'unknown key',
  ],
  [
    'deployment without provider',
    `${LOCAL}models:\n  m: { deployments: [{ model: x }] }\n`,
    'models.m.deployments[0].provider',
    'is required',
  ],
  [
    'deployment without model',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local }] }\n`,
    'models.m.deployments[0].model',
    'is required',
  ],
  [
    'unknown deployment provider',
    `${LOCAL}models:\n  m: { deployments: [{ provider: cloud, model: x }] }\n`,
    'models.m.deployments[0].provider',
    'unknown provider "cloud"',
  ],
  [
    'upstream model with space',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: "a b" }] }\n`,
    'models.m.deployments[0].model',
    'without whitespace',
  ],
  [
    'upstream model as number',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: 3.2 }] }\n`,
    'models.m.deployments[0].model',
    'quote it',
  ],
  [
    'weight zero',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: x, weight: 0 }] }\n`,
    'models.m.deployments[0].weight',
    '≥ 1',
  ],
  [
    'max_concurrent zero',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: x, max_concurrent: 0 }] }\n`,
    'models.m.deployments[0].max_concurrent',
    '≥ 1',
  ],
  [
    'repeated deployment',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: x }, { provider: local, model: x }] }\n`,
    'models.m.deployments[1]',
    'repeats deployments[0]',
  ],
  [
    'model name with space',
    `${LOCAL}models:\n  "a b": { deployments: [{ provider: local, model: x }] }\n`,
    'models["a b"]',
    'without whitespace',
  ],
  [
    'model name too long',
    `${LOCAL}models:\n  ${'m'.repeat(257)}: { deployments: [{ provider: local, model: x }] }\n`,
    `models["${'m'.repeat(48)}…"]`,
    '1 to 256 characters',
  ],
  [
    'empty alias',
    `${LOCAL}models:\n  m: { aliases: [""], deployments: [{ provider: local, model: x }] }\n`,
    'models.m.aliases[0]',
    '1 to 256 characters',
  ],
  [
    'aliases not a list',
    `${LOCAL}models:\n  m: { aliases: fast, deployments: [{ provider: local, model: x }] }\n`,
    'models.m.aliases',
    'must be a list',
  ],
  [
    'alias used twice',
    `${LOCAL}models:\n  a: { aliases: [fast], deployments: [{ provider: local, model: x }] }\n  b: { aliases: [fast], deployments: [{ provider: local, model: y }] }\n`,
    'models.b.aliases[0]',
    '"fast" is already an alias of model "a"',
  ],
  [
    'alias equal to a model name',
    `${LOCAL}models:\n  a: { deployments: [{ provider: local, model: x }] }\n  b: { aliases: [a], deployments: [{ provider: local, model: y }] }\n`,
    'models.b.aliases[0]',
    '"a" is already the name of model "a"',
  ],
  [
    'model name equal to an alias',
    `${LOCAL}models:\n  a: { aliases: [b], deployments: [{ provider: local, model: x }] }\n  b: { deployments: [{ provider: local, model: y }] }\n`,
    'models.b',
    '"b" is already an alias of model "a"',
  ],
  [
    'model name shadowing provider/model',
    `${LOCAL}models:\n  local/llama: { deployments: [{ provider: local, model: x }] }\n`,
    'models["local/llama"]',
    'shadow provider/model routing to local',
  ],
  [
    'alias shadowing provider/model',
    `${LOCAL}models:\n  m: { aliases: [local/x], deployments: [{ provider: local, model: x }] }\n`,
    'models.m.aliases[0]',
    'shadow',
  ],
  [
    'unknown fallback',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: x }], fallbacks: [nope] }\n`,
    'models.m.fallbacks[0]',
    'unknown model "nope"',
  ],
  [
    'fallback to itself',
    `${LOCAL}models:\n  m: { deployments: [{ provider: local, model: x }], fallbacks: [m] }\n`,
    'models.m.fallbacks[0]',
    'itself',
  ],
  [
    'fallback to its own alias',
    `${LOCAL}models:\n  m: { aliases: [mm], deployments: [{ provider: local, model: x }], fallbacks: [mm] }\n`,
    'models.m.fallbacks[0]',
    'itself',
  ],
  [
    'fallback listed twice',
    `${LOCAL}models:\n  a: { deployments: [{ provider: local, model: x }], fallbacks: [b, b] }\n  b: { deployments: [{ provider: local, model: y }] }\n`,
    'models.a.fallbacks[1]',
    'listed twice',
  ],
  [
    'fallback cycle',
    `${LOCAL}models:\n  b: { deployments: [{ provider: local, model: x }], fallbacks: [a] }\n  a: { deployments: [{ provider: local, model: y }], fallbacks: [b] }\n`,
    'models.a.fallbacks',
    'fallback cycle a → b → a',
  ],
  [
    'long fallback cycle',
    `${LOCAL}models:\n  a: { deployments: [{ provider: local, model: x }], fallbacks: [b] }\n  b: { deployments: [{ provider: local, model: y }], fallbacks: [c] }\n  c: { deployments: [{ provider: local, model: z }], fallbacks: [a] }\n`,
    'models.a.fallbacks',
    'a → b → c → a',
  ],
  [
    'non-string key',
    `${LOCAL}models:\n  1.5: { deployments: [{ provider: local, model: x }] }\n`,
    'models',
    'key 1.5 must be a string (quote it)',
  ],
  // routing
  ['unknown routing key', `${LOCAL}routing: { retries: {} }\n`, 'routing.retries', 'unknown key'],
  [
    'unknown retry key',
    `${LOCAL}routing: { retry: { attempts: 2 } }\n`,
    'routing.retry.attempts',
    'unknown key',
  ],
  [
    'max_attempts zero',
    `${LOCAL}routing: { retry: { max_attempts: 0 } }\n`,
    'routing.retry.max_attempts',
    'from 1 to 10',
  ],
  [
    'max_attempts eleven',
    `${LOCAL}routing: { retry: { max_attempts: 11 } }\n`,
    'routing.retry.max_attempts',
    'from 1 to 10',
  ],
  [
    'negative backoff',
    `${LOCAL}routing: { retry: { initial_backoff_ms: -1 } }\n`,
    'routing.retry.initial_backoff_ms',
    'from 0',
  ],
  [
    'max backoff below initial',
    `${LOCAL}routing: { retry: { initial_backoff_ms: 500, max_backoff_ms: 100 } }\n`,
    'routing.retry.max_backoff_ms',
    '≥ initial_backoff_ms',
  ],
  [
    'initial backoff above the default max',
    `${LOCAL}routing: { retry: { initial_backoff_ms: 5000 } }\n`,
    'routing.retry.max_backoff_ms',
    '2000 < 5000',
  ],
  [
    'negative retry-after cap',
    `${LOCAL}routing: { retry: { max_retry_after_ms: -5 } }\n`,
    'routing.retry.max_retry_after_ms',
    'from 0',
  ],
  [
    'budget zero',
    `${LOCAL}routing: { retry: { budget_ms: 0 } }\n`,
    'routing.retry.budget_ms',
    'from 1',
  ],
  [
    'failure_threshold zero',
    `${LOCAL}routing: { cooldown: { failure_threshold: 0 } }\n`,
    'routing.cooldown.failure_threshold',
    '≥ 1',
  ],
  [
    'negative cooldown',
    `${LOCAL}routing: { cooldown: { cooldown_ms: -1 } }\n`,
    'routing.cooldown.cooldown_ms',
    'from 0',
  ],
  [
    'unknown cooldown key',
    `${LOCAL}routing: { cooldown: { period_ms: 1 } }\n`,
    'routing.cooldown.period_ms',
    'unknown key',
  ],
];

describe('each rule', () => {
  it.each(RULES)('%s', (_rule, text, path, fragment) => expectProblem(text, path, fragment));

  it('accepts the boundary values', () => {
    const text = `${LOCAL}models:
  m: { deployments: [{ provider: local, model: x, weight: 1, max_concurrent: 1 }] }
routing:
  retry: { max_attempts: 10, initial_backoff_ms: 0, max_backoff_ms: 0, max_retry_after_ms: 0, budget_ms: 1 }
  cooldown: { failure_threshold: 1, cooldown_ms: 0 }
`;
    const config = parseConfig(text, 'gateway.yaml', env, defaults);
    expect(config.retry).toStrictEqual({
      maxAttempts: 10,
      initialBackoffMs: 0,
      maxBackoffMs: 0,
      maxRetryAfterMs: 0,
      budgetMs: 1,
    });
    expect(config.cooldown).toStrictEqual({ failureThreshold: 1, cooldownMs: 0 });
  });
});

describe('findCycles', () => {
  it('reports each cycle once, from its smallest name', () => {
    const graph = new Map([
      ['c', ['a']],
      ['a', ['b']],
      ['b', ['c', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(findCycles(graph)).toStrictEqual([['a', 'b', 'c'], ['e']]);
  });
});

describe('names with control characters', () => {
  /** JSON can spell every control character; each case puts one in one kind of name. */
  const config = (overrides: {
    provider?: string;
    model?: string;
    alias?: string;
    upstream?: string;
    reference?: string;
    fallback?: string;
    default?: string;
  }) =>
    JSON.stringify({
      default_provider: overrides.default ?? 'local',
      providers: { [overrides.provider ?? 'local']: { kind: 'ollama' } },
      models: {
        [overrides.model ?? 'm']: {
          aliases: [overrides.alias ?? 'a'],
          deployments: [
            { provider: overrides.reference ?? 'local', model: overrides.upstream ?? 'x' },
          ],
          fallbacks: [overrides.fallback ?? 'n'],
        },
        n: { deployments: [{ provider: 'local', model: 'y' }] },
      },
    });
  const CASES = [
    [
      'provider name',
      { provider: 'lo\u0000cal' },
      'providers["lo\\u0000cal"]',
      'U+0000 at position 2',
    ],
    ['model name', { model: 'm\n' }, 'models["m\\n"]', 'U+000A at position 1'],
    ['alias', { alias: 'a\u007f' }, 'models.m.aliases[0]', 'U+007F at position 1'],
    [
      'deployment model',
      { upstream: '\rx' },
      'models.m.deployments[0].model',
      'U+000D at position 0',
    ],
    [
      'deployment provider',
      { reference: 'local\u001b' },
      'models.m.deployments[0].provider',
      'U+001B at position 5',
    ],
    ['default provider', { default: 'local\t' }, 'default_provider', 'U+0009 at position 5'],
    ['fallback', { fallback: 'n\u0000' }, 'models.m.fallbacks[0]', 'U+0000 at position 1'],
  ] as const;

  it.each(CASES)('%s: refused in one clear line', (_kind, overrides, path, where) => {
    const problems = problemsOf(config(overrides), 'gateway.json');
    expect(problems).toContain(
      `gateway.json: ${path}: contains the control character ${where}; names cannot contain control characters (U+0000–U+001F, U+007F)`,
    );
    // Every line stays one line, with nothing invisible in it.
    for (const problem of problems) {
      expect([...problem].some((character) => character < ' ' || character === '\x7f')).toBe(false);
    }
  });

  it('the same names without the control character load', () => {
    expect(parseConfig(config({}), 'gateway.json', env, defaults).models).toHaveLength(2);
  });
});

describe('prototype keys in the file', () => {
  it('are plain names: a provider or model called constructor or __proto__ pollutes nothing', () => {
    const text = `{
      "providers": { "constructor": { "kind": "ollama", "headers": { "__proto__": "x" } } },
      "models": {
        "__proto__": { "deployments": [{ "provider": "constructor", "model": "prototype" }] },
        "constructor": { "aliases": ["prototype"], "deployments": [{ "provider": "constructor", "model": "x" }] }
      }
    }`;
    for (const fileName of ['gateway.json', 'gateway.yaml']) {
      const loaded = parseConfig(text, fileName, env, defaults);
      expect(loaded.providers.map((provider) => provider.name)).toStrictEqual(['constructor']);
      const headers = loaded.providers[0]?.headers ?? {};
      expect(Object.hasOwn(headers, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
      expect(loaded.models.map((model) => model.name)).toStrictEqual(['__proto__', 'constructor']);
      expect(loaded.models[1]?.aliases).toStrictEqual(['prototype']);
    }
    expect(({} as Record<string, unknown>).deployments).toBeUndefined();
    expect(({} as Record<string, unknown>).kind).toBeUndefined();
  });
});
