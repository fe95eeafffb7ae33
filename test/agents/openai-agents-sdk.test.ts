/**
 * The OpenAI Agents SDK (`@openai/agents`, installed in test/agents) in this process, its model
 * provider pointed at the gateway's `/v1` (the Responses API) with a client key, tracing off:
 * `run()` an agent with one function tool, without and with streaming, in front of the fake
 * upstream in both dialects. The upstream calls the tool, then answers; the tool must run with the
 * model's arguments, its output must reach the upstream in the second turn, and the final output
 * must be the upstream's text. Every fetch this process makes meanwhile is watched: none may go
 * anywhere but 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';
import type { UpstreamMessage } from '../helpers/responses-upstream.js';
import { agentInstalled } from './agents-install.js';
import { scriptedTurn } from './scripted-turn.js';

/** The part of the SDK this suite uses (typed here: the SDK is not installed for `tsc`). */
interface AgentsSdk {
  readonly Agent: new (config: {
    name: string;
    instructions: string;
    model: string;
    tools: readonly unknown[];
  }) => object;
  readonly Runner: new (config: {
    modelProvider: object;
    tracingDisabled: boolean;
  }) => {
    run(agent: object, input: string): Promise<{ readonly finalOutput?: unknown }>;
    run(agent: object, input: string, options: { stream: true }): Promise<StreamedRun>;
  };
  readonly OpenAIProvider: new (options: {
    apiKey: string;
    baseURL: string;
    useResponses: boolean;
  }) => object;
  tool(options: {
    name: string;
    description: string;
    parameters: object;
    strict: boolean;
    execute(input: unknown): Promise<string>;
  }): unknown;
  setTracingDisabled(disabled: boolean): void;
}

interface StreamedRun extends AsyncIterable<{ readonly type: string }> {
  readonly completed: Promise<void>;
  readonly finalOutput?: unknown;
}

const installed = agentInstalled('The OpenAI Agents SDK', '@openai/agents/package.json');

const ANSWER = 'It is sunny in Paris.';

/** Upstream models in each dialect, named as the routed `/v1` takes them. */
const MODELS = [
  { dialect: 'ollama', model: 'ollama/llama3.2' },
  { dialect: 'cerebras', model: 'cerebras/llama3.1-8b' },
] as const;

describe.skipIf(!installed)('the OpenAI Agents SDK through the gateway', () => {
  const gateway = useGateway();
  let sdk: AgentsSdk;
  const fetched: string[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    // Watches every fetch of this process (the SDK's model calls, and a tracing export if one
    // were attempted); anything but loopback is refused as well as recorded.
    globalThis.fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      fetched.push(url.host);
      if (url.hostname !== '127.0.0.1') {
        return Promise.reject(new Error(`egress to ${url.host} refused by the test`));
      }
      return realFetch(input, init);
    };
    // A variable specifier: resolved at run time from test/agents/node_modules, not by tsc.
    const specifier = '@openai/agents';
    sdk = (await import(specifier)) as AgentsSdk;
    sdk.setTracingDisabled(true);
  });

  afterAll(() => {
    globalThis.fetch = realFetch;
    expect(fetched.length).toBeGreaterThan(0); // the watch saw the SDK's own calls
    expect(fetched.filter((host) => !host.startsWith('127.0.0.1:'))).toEqual([]);
  });

  /** An agent with the weather tool, the calls it got, and a runner at the gateway. */
  function weatherAgent(model: string) {
    const calls: unknown[] = [];
    const weather = sdk.tool({
      name: 'get_weather',
      description: 'The current weather in a city.',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
        additionalProperties: false,
      },
      strict: true,
      async execute(input) {
        calls.push(input);
        return 'sunny, 24 °C';
      },
    });
    const agent = new sdk.Agent({
      name: 'Weather',
      instructions: 'Answer with the weather tool.',
      model,
      tools: [weather],
    });
    const provider = new sdk.OpenAIProvider({
      apiKey: CLIENT_KEY,
      baseURL: `${gateway.url}/v1`,
      useResponses: true,
    });
    const runner = new sdk.Runner({ modelProvider: provider, tracingDisabled: true });
    return { agent, runner, calls };
  }

  /** Turn 1: call the tool; turn 2 (its result in the history): the answer. */
  function scriptTwoTurns(): void {
    const turn = scriptedTurn((chat) =>
      chat.hasToolResult
        ? { text: ['It is sunny', ' in Paris.'] }
        : { calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], argumentPieces: 3 },
    );
    gateway.upstream.enqueue(turn, turn);
  }

  /** What the upstream got: two chat requests, the tool offered, its output in the second. */
  function expectUpstreamTurns(stream: boolean): void {
    const bodies = gateway.upstream.requests.map(
      (request) => request.json as { stream?: boolean; tools?: unknown[]; messages: unknown[] },
    );
    expect(bodies).toHaveLength(2);
    for (const body of bodies) {
      expect(body.stream === true).toBe(stream);
      expect(body.tools).toEqual([
        expect.objectContaining({ function: expect.objectContaining({ name: 'get_weather' }) }),
      ]);
    }
    const messages = bodies[1]?.messages as UpstreamMessage[];
    expect(messages.map((message) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
    ]);
    expect(messages[3]?.content).toBe('sunny, 24 °C');
  }

  it.each(MODELS)(
    'run() without streaming: the tool runs, then the answer ($dialect)',
    async ({ model }) => {
      scriptTwoTurns();
      const { agent, runner, calls } = weatherAgent(model);

      const result = await runner.run(agent, 'What is the weather in Paris?');

      expect(calls).toEqual([{ city: 'Paris' }]);
      expect(result.finalOutput).toBe(ANSWER);
      expectUpstreamTurns(false);
    },
  );

  it.each(MODELS)(
    'run() streamed: the tool runs, then the answer ($dialect)',
    async ({ model }) => {
      scriptTwoTurns();
      const { agent, runner, calls } = weatherAgent(model);

      const result = await runner.run(agent, 'What is the weather in Paris?', { stream: true });
      const events: string[] = [];
      for await (const event of result) events.push(event.type);
      await result.completed;

      expect(calls).toEqual([{ city: 'Paris' }]);
      expect(result.finalOutput).toBe(ANSWER);
      expect(events).toContain('raw_model_stream_event');
      expect(events).toContain('run_item_stream_event');
      expectUpstreamTurns(true);
    },
  );
});
