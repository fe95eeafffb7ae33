/**
 * A request shaped as Codex CLI sends it (`wire_api = "responses"`): its prompt as `developer`
 * messages, tools of every type it uses (`function`, `custom` `apply_patch` with a lark grammar,
 * a `namespace` of functions, `tool_search`, `web_search`), `store: false`, `include`,
 * `prompt_cache_key`, `client_metadata`, `text.verbosity`, and its whole history each turn,
 * reasoning items included. Checked both ways: the chat request the upstream got, and the items
 * Codex reads back (it runs calls from `response.output_item.done`).
 */
import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway-harness.js';
import { expectWellFormed, parseResponsesEvents } from '../helpers/responses-events.js';
import {
  callArguments,
  RESPONSES_ROUTES,
  scriptedAnswer,
  type UpstreamMessage,
  upstreamBody,
} from '../helpers/responses-upstream.js';
import { postChat } from '../helpers/sse-client.js';

const GRAMMAR = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF';
const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+HI\n*** End Patch';

const CODEX_TOOLS = [
  {
    type: 'function',
    name: 'exec_command',
    description: 'Runs a command in a PTY.',
    strict: false,
    parameters: {
      type: 'object',
      properties: { cmd: { type: 'string' } },
      required: ['cmd'],
      additionalProperties: false,
    },
  },
  {
    type: 'custom',
    name: 'apply_patch',
    description: 'Use the `apply_patch` tool to edit files. This is a FREEFORM tool.',
    format: { type: 'grammar', syntax: 'lark', definition: GRAMMAR },
  },
  {
    type: 'namespace',
    name: 'mcp__docs',
    description: 'Tools in the mcp__docs namespace.',
    tools: [
      {
        type: 'function',
        name: 'search',
        description: 'Searches the docs.',
        strict: false,
        defer_loading: true,
        parameters: { type: 'object', properties: { query: { type: 'string' } } },
      },
    ],
  },
  {
    type: 'tool_search',
    execution: 'client',
    description: 'Finds deferred tools.',
    parameters: { type: 'object', properties: { query: { type: 'string' } } },
  },
  { type: 'web_search', external_web_access: false },
];

/** What Codex sends besides its input. */
function codexRequest(model: string, input: unknown[]) {
  return {
    model,
    instructions: 'You are Codex, a coding agent.',
    input,
    tools: CODEX_TOOLS,
    tool_choice: 'auto',
    parallel_tool_calls: true,
    reasoning: null,
    store: false,
    stream: true,
    include: [],
    prompt_cache_key: '0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    client_metadata: { originator: 'codex_exec' },
    text: { verbosity: 'medium' },
  };
}

const FIRST_TURN = [
  {
    type: 'message',
    role: 'developer',
    content: [{ type: 'input_text', text: '<permissions instructions>danger-full-access' }],
  },
  {
    type: 'message',
    role: 'user',
    content: [
      { type: 'input_text', text: '# AGENTS.md instructions' },
      { type: 'input_text', text: '<environment_context>cwd=/tmp/x</environment_context>' },
    ],
  },
  {
    type: 'message',
    role: 'user',
    content: [{ type: 'input_text', text: 'create hello.txt containing HI' }],
  },
];

const gateway = useGateway();

describe.each(RESPONSES_ROUTES)('a Codex turn through $name', (route) => {
  const path = route.prefix === '' ? '/v1/responses' : `/${route.prefix}/v1/responses`;

  it('is accepted; the upstream gets system prompts, flat tools and nothing it may refuse', async () => {
    gateway.upstream.enqueue(
      scriptedAnswer(route.dialect, true, {
        calls: [
          { name: 'apply_patch', arguments: { input: PATCH } },
          { name: 'search', arguments: { query: 'patch format' } },
        ],
        argumentPieces: 5,
      }),
    );
    const response = await postChat(gateway.url, path, codexRequest(route.model, FIRST_TURN));
    expect(response.status).toBe(200);
    const events = parseResponsesEvents(await response.text());
    const final = expectWellFormed(events);

    const body = upstreamBody(gateway.upstream);
    for (const field of [
      'store',
      'include',
      'prompt_cache_key',
      'client_metadata',
      'text',
      'input',
    ]) {
      expect(body).not.toHaveProperty(field);
    }
    expect(
      (body.messages as UpstreamMessage[]).map(({ role, content }) => ({ role, content })),
    ).toEqual([
      { role: 'system', content: 'You are Codex, a coding agent.' },
      { role: 'system', content: '<permissions instructions>danger-full-access' },
      {
        role: 'user',
        content: '# AGENTS.md instructions\n<environment_context>cwd=/tmp/x</environment_context>',
      },
      { role: 'user', content: 'create hello.txt containing HI' },
    ]);
    const tools = body.tools as {
      function: { name: string; parameters: unknown; description?: string };
    }[];
    expect(tools.map((tool) => tool.function.name)).toEqual([
      'exec_command',
      'apply_patch',
      'search',
    ]);
    expect(tools[1]?.function.parameters).toMatchObject({
      type: 'object',
      properties: { input: { type: 'string' } },
      required: ['input'],
    });
    expect(tools[1]?.function.description).toContain(GRAMMAR);

    expect(final.output).toEqual([
      {
        type: 'custom_tool_call',
        id: expect.stringMatching(/^ctc_/),
        status: 'completed',
        call_id: expect.stringMatching(/^call_/),
        name: 'apply_patch',
        input: PATCH,
      },
      {
        type: 'function_call',
        id: expect.stringMatching(/^fc_/),
        status: 'completed',
        call_id: expect.stringMatching(/^call_/),
        name: 'search',
        namespace: 'mcp__docs',
        arguments: '{"query":"patch format"}',
      },
    ]);
    const customInput = events.filter((event) =>
      event.data.type.startsWith('response.custom_tool_call_input.'),
    );
    expect(customInput.map((event) => event.data.delta ?? event.data.input)).toEqual([
      PATCH,
      PATCH,
    ]);
  });

  it('takes its history back: reasoning dropped, calls as one assistant turn, outputs as tool messages', async () => {
    gateway.upstream.enqueue(scriptedAnswer(route.dialect, true, { text: ['Created hello.txt.'] }));
    const history = [
      ...FIRST_TURN,
      { type: 'reasoning', summary: [], content: null, encrypted_content: 'gAAAA-opaque' },
      {
        type: 'custom_tool_call',
        call_id: 'call_p',
        name: 'apply_patch',
        input: PATCH,
        status: 'completed',
      },
      {
        type: 'function_call',
        call_id: 'call_s',
        name: 'search',
        namespace: 'mcp__docs',
        arguments: '{"query":"patch format"}',
      },
      {
        type: 'custom_tool_call_output',
        call_id: 'call_p',
        output: 'Success. Updated: A hello.txt',
      },
      { type: 'function_call_output', call_id: 'call_s', output: 'No results.' },
    ];
    const response = await postChat(gateway.url, path, codexRequest(route.model, history));
    const final = expectWellFormed(parseResponsesEvents(await response.text()));
    expect(final).toMatchObject({ status: 'completed', output: [{ type: 'message' }] });

    const messages = upstreamBody(gateway.upstream).messages as UpstreamMessage[];
    expect(messages.map((message) => message.role)).toEqual([
      'system',
      'system',
      'user',
      'user',
      'assistant',
      'tool',
      'tool',
    ]);
    const calls = messages[4]?.tool_calls ?? [];
    expect(calls.map((call) => [call.function.name, callArguments(call)])).toEqual([
      ['apply_patch', { input: PATCH }],
      ['search', { query: 'patch format' }],
    ]);
    expect(messages.slice(5).map((message) => message.content)).toEqual([
      'Success. Updated: A hello.txt',
      'No results.',
    ]);
  });
});
