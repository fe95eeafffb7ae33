import { describe, expect, it } from 'vitest';
import { toChatTools } from './responses-tools.js';
import type { ResponsesTool } from './responses-types.js';

const WEATHER: ResponsesTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  strict: false,
};

const APPLY_PATCH: ResponsesTool = {
  type: 'custom',
  name: 'apply_patch',
  description: 'Edit files. This is a FREEFORM tool.',
  format: { type: 'grammar', syntax: 'lark', definition: 'start: begin_patch hunk+ end_patch' },
};

describe('toChatTools', () => {
  it('keeps function tools, with strict only when true', () => {
    const { tools, catalogue } = toChatTools(
      [WEATHER, { ...WEATHER, name: 'b', strict: true }],
      null,
    );
    expect(tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: WEATHER.parameters,
        },
      },
      {
        type: 'function',
        function: {
          name: 'b',
          description: 'Weather for a city',
          parameters: WEATHER.parameters,
          strict: true,
        },
      },
    ]);
    expect(catalogue.fromUpstream('get_weather')).toEqual({
      kind: 'function',
      name: 'get_weather',
      namespace: undefined,
    });
  });

  it('turns a custom tool into a function of one string, its grammar in the description', () => {
    const { tools, catalogue } = toChatTools([APPLY_PATCH], null);
    expect(tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'apply_patch',
          description:
            'Edit files. This is a FREEFORM tool.\n\nThe input must follow this lark grammar:\nstart: begin_patch hunk+ end_patch',
          parameters: {
            type: 'object',
            properties: {
              input: { type: 'string', description: "The tool's whole input, as text." },
            },
            required: ['input'],
            additionalProperties: false,
          },
        },
      },
    ]);
    expect(catalogue.fromUpstream('apply_patch')?.kind).toBe('custom');
  });

  it('flattens a namespace, renaming only the functions whose name is taken', () => {
    const namespace: ResponsesTool = {
      type: 'namespace',
      name: 'mcp__files',
      description: 'File tools',
      tools: [
        { type: 'function', name: 'read', parameters: { type: 'object' } },
        { type: 'function', name: 'get_weather', parameters: { type: 'object' } },
      ],
    };
    const { tools, catalogue } = toChatTools([WEATHER, namespace], null);
    expect(tools?.map((tool) => tool.function.name)).toEqual([
      'get_weather',
      'read',
      'mcp__files__get_weather',
    ]);
    expect(catalogue.fromUpstream('read')).toEqual({
      kind: 'function',
      name: 'read',
      namespace: 'mcp__files',
    });
    expect(catalogue.fromUpstream('mcp__files__get_weather')).toEqual({
      kind: 'function',
      name: 'get_weather',
      namespace: 'mcp__files',
    });
    expect(catalogue.toUpstream('get_weather', 'mcp__files')).toBe('mcp__files__get_weather');
    expect(catalogue.toUpstream('get_weather', undefined)).toBe('get_weather');
    expect(catalogue.toUpstream('read', 'mcp__files')).toBe('read');
    expect(catalogue.toUpstream('unknown', undefined)).toBe('unknown');
  });

  it('drops hosted tools and names them, never refuses them', () => {
    const hosted = ['web_search', 'tool_search', 'file_search', 'code_interpreter', 'mcp'];
    const result = toChatTools([WEATHER, ...hosted.map((type) => ({ type }))], {
      type: 'web_search',
    });
    expect(result.tools?.map((tool) => tool.function.name)).toEqual(['get_weather']);
    expect(result.dropped).toEqual(hosted);
    expect(result.toolChoice).toBeUndefined();
  });

  it('sends neither tools nor tool_choice when only hosted tools were given', () => {
    const result = toChatTools([{ type: 'web_search' }], 'required');
    expect(result).toMatchObject({
      tools: undefined,
      toolChoice: undefined,
      dropped: ['web_search'],
    });
  });

  it.each([
    ['auto', 'auto'],
    ['required', 'required'],
    ['none', 'none'],
    [
      { type: 'function', name: 'get_weather' },
      { type: 'function', function: { name: 'get_weather' } },
    ],
    [
      { type: 'custom', name: 'apply_patch' },
      { type: 'function', function: { name: 'apply_patch' } },
    ],
    [{ type: 'allowed_tools', mode: 'required', tools: [] }, 'required'],
    [{ type: 'file_search' }, undefined],
  ] as const)('maps tool_choice %j to %j', (choice, expected) => {
    expect(toChatTools([WEATHER, APPLY_PATCH], choice).toolChoice).toEqual(expected);
  });

  it.each([
    [[{ type: 'function', parameters: {} }], 'tools[0].name'],
    [[WEATHER, { type: 'custom', name: '' }], 'tools[1].name'],
    [[{ type: 'namespace', tools: [] }], 'tools[0].name'],
    [[{ type: 'namespace', name: 'n', tools: [{ type: 'function' }] }], 'tools[0].tools[0].name'],
  ])('refuses a nameless tool %j with a 422 naming %s', (tools, param) => {
    expect(() => toChatTools(tools as ResponsesTool[], null)).toThrow(
      expect.objectContaining({ status: 422, code: 'validation_error', param }),
    );
  });
});
