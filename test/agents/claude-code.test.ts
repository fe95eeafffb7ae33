/**
 * Claude Code (`@anthropic-ai/claude-code`, installed in test/agents) run for real as a child
 * process, `-p "create hello.txt containing HI"`, against the gateway in front of the fake
 * upstream, which plays the model: its first turn calls Claude Code's `Write` tool, its second
 * answers. Claude Code must write the file and finish with the answer, through both of its key
 * variables and both of the README's set-ups (a pinned prefix, and the routed `/v1`), in both
 * upstream dialects. What it sent is checked at the gateway's door (a relay) and upstream, and
 * nothing may try to leave 127.0.0.1.
 *
 * Claude Code 2 is a native executable (the npm package's postinstall links the platform's
 * binary), so it runs whichever Node runs the suite.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../helpers/fake-upstream.js';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';
import type { UpstreamMessage } from '../helpers/responses-upstream.js';
import { useAgentWorkspace } from './agent-workspace.js';
import { AGENTS_MODULES, agentInstalled } from './agents-install.js';
import type { AgentRequest } from './recording-relay.js';
import { type AgentRun, describeRun, runAgent } from './run-agent.js';
import { scriptedTurn } from './scripted-turn.js';

const installed = agentInstalled('Claude Code', '@anthropic-ai/claude-code/package.json');

const CLAUDE = join(AGENTS_MODULES, '.bin', 'claude');
const PROMPT = 'create hello.txt containing HI';
const RUN_TIMEOUT_MS = 120_000;

/** Claude Code's documented switches for everything but the model calls. */
const NO_TELEMETRY = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  DISABLE_AUTOUPDATER: '1',
};

/** One way to point Claude Code at the gateway. */
interface Setup {
  readonly name: string;
  /** Appended to the relay's URL to make `ANTHROPIC_BASE_URL`. */
  readonly prefix: string;
  readonly model: string;
  readonly key: 'ANTHROPIC_API_KEY' | 'ANTHROPIC_AUTH_TOKEN';
  /** The path Claude Code requests, and the upstream's. */
  readonly inboundPath: string;
  readonly upstreamPath: string;
}

const SETUPS: readonly Setup[] = [
  {
    name: 'pinned /ollama, ANTHROPIC_API_KEY (x-api-key), Ollama NDJSON',
    prefix: '/ollama',
    model: 'llama3.2',
    key: 'ANTHROPIC_API_KEY',
    inboundPath: '/ollama/v1/messages?beta=true',
    upstreamPath: '/api/chat',
  },
  {
    name: 'routed /v1, ANTHROPIC_AUTH_TOKEN (Bearer), OpenAI SSE',
    prefix: '',
    model: 'cerebras/llama3.1-8b',
    key: 'ANTHROPIC_AUTH_TOKEN',
    inboundPath: '/v1/messages?beta=true',
    upstreamPath: '/v1/chat/completions',
  },
];

/** What `--output-format json` prints at the end of a run. */
interface ClaudeResult {
  readonly type: string;
  readonly subtype: string;
  readonly is_error: boolean;
  readonly num_turns: number;
  readonly result: string;
}

/** The parts of a Messages request this suite reads. */
interface MessagesBody {
  readonly model: string;
  readonly stream?: boolean;
  readonly max_tokens: number;
  readonly system: readonly { type: string; text: string; cache_control?: unknown }[];
  readonly tools: readonly { name: string; input_schema?: unknown }[];
  readonly metadata?: { user_id?: unknown };
}

describe.skipIf(!installed)('Claude Code through the gateway', () => {
  const gateway = useGateway();
  const workspace = useAgentWorkspace('claude-code', () => gateway.url);

  /** Turn 1 writes the file with the `Write` tool; any turn after its result, or without it, answers. */
  function scriptModel(): void {
    const target = join(workspace.work, 'hello.txt');
    const turn = scriptedTurn((chat) =>
      !chat.hasToolResult && chat.toolNames.includes('Write')
        ? {
            calls: [{ name: 'Write', arguments: { file_path: target, content: 'HI' } }],
            argumentPieces: 4,
          }
        : { text: ['Created', ' hello.txt.'] },
    );
    // More than the two turns expected: whatever else Claude Code asks gets an answer too.
    for (let index = 0; index < 8; index += 1) gateway.upstream.enqueue(turn);
  }

  async function runClaude(setup: Setup, extraEnv: Record<string, string>): Promise<AgentRun> {
    return runAgent(
      CLAUDE,
      ['--dangerously-skip-permissions', '-p', PROMPT, '--output-format', 'json'],
      {
        cwd: workspace.work,
        timeoutMs: RUN_TIMEOUT_MS,
        env: {
          ...workspace.baseEnv(),
          ANTHROPIC_BASE_URL: `${workspace.relay.url}${setup.prefix}`,
          [setup.key]: CLIENT_KEY,
          ANTHROPIC_MODEL: setup.model,
          // Claude Code refuses --dangerously-skip-permissions as root outside a sandbox.
          IS_SANDBOX: '1',
          ...extraEnv,
        },
      },
    );
  }

  it.each(SETUPS)(
    'writes hello.txt and finishes: $name',
    async (setup) => {
      scriptModel();

      const run = await runClaude(setup, NO_TELEMETRY);

      expect(run.exitCode, describeRun(run)).toBe(0);
      const result = JSON.parse(run.stdout) as ClaudeResult;
      expect(result).toMatchObject({
        type: 'result',
        subtype: 'success',
        is_error: false,
        num_turns: 2,
        result: 'Created hello.txt.',
      });
      expect(await readFile(join(workspace.work, 'hello.txt'), 'utf8')).toBe('HI');

      // At the gateway's door: one Messages request per turn, with the key where the variable says.
      const inbound = workspace.relay.requests;
      expect(inbound.map((request) => `${request.method} ${request.path}`)).toEqual([
        `POST ${setup.inboundPath}`,
        `POST ${setup.inboundPath}`,
      ]);
      for (const request of inbound) expectKey(request, setup.key);
      const first = JSON.parse(inbound[0]?.body.toString('utf8') ?? '') as MessagesBody;
      expect(first.model).toBe(setup.model);
      expect(first.stream).toBe(true);
      expect(first.tools.map((tool) => tool.name)).toContain('Write');
      expect(first.tools.every((tool) => tool.input_schema !== undefined)).toBe(true);
      expect(first.system[0]?.text).toMatch(/^x-anthropic-billing-header: /);
      expect(first.system.some((block) => block.cache_control !== undefined)).toBe(true);
      expect(typeof first.metadata?.user_id).toBe('string');
      expect(String(inbound[0]?.headers['anthropic-beta']).split(',').length).toBeGreaterThan(1);

      // Upstream: the same two turns, streamed, the tools offered, the file's creation reported.
      const upstream = gateway.upstream.requests;
      expect(upstream.map((request) => `${request.method} ${request.path}`)).toEqual([
        `POST ${setup.upstreamPath}`,
        `POST ${setup.upstreamPath}`,
      ]);
      const [turn1, turn2] = upstream.map(chatBody);
      expect(turn1?.stream).toBe(true);
      expect(turn1?.tools.map((tool) => tool.function.name)).toContain('Write');
      expect(turn1?.messages[0]?.role).toBe('system');
      for (const request of upstream)
        expect(request.body).not.toContain('x-anthropic-billing-header');
      const toolResult = turn2?.messages.find((message) => message.role === 'tool');
      expect(String(toolResult?.content)).toContain('File created successfully');

      expect(workspace.trap.attempts).toEqual([]);
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    'the egress trap sees what Claude Code sends when its nonessential traffic is on',
    async () => {
      // The control for the assertion above: the same run without the switches tries to reach
      // Anthropic's servers, through the proxy variables, and the trap records it. Without this, an
      // empty trap could mean a blind one.
      scriptModel();
      const [setup] = SETUPS as [Setup];

      const run = await runClaude(setup, {});

      expect(run.exitCode, describeRun(run)).toBe(0);
      expect(await readFile(join(workspace.work, 'hello.txt'), 'utf8')).toBe('HI');
      expect(workspace.trap.attempts.length).toBeGreaterThan(0);
      for (const attempt of workspace.trap.attempts) {
        expect(attempt).toMatch(/^CONNECT ([a-z0-9-]+\.)*anthropic\.com:443 /);
      }
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});

function expectKey(request: AgentRequest, key: Setup['key']): void {
  if (key === 'ANTHROPIC_API_KEY') {
    expect(request.headers['x-api-key']).toBe(CLIENT_KEY);
    expect(request.headers.authorization).toBeUndefined();
  } else {
    expect(request.headers.authorization).toBe(`Bearer ${CLIENT_KEY}`);
    expect(request.headers['x-api-key']).toBeUndefined();
  }
}

/** A chat request as the upstream got it (either dialect: both have these fields). */
function chatBody(request: RecordedRequest): {
  readonly stream?: boolean;
  readonly messages: readonly UpstreamMessage[];
  readonly tools: readonly { function: { name: string } }[];
} {
  return request.json as ReturnType<typeof chatBody>;
}
