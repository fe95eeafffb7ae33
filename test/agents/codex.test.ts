/**
 * Codex CLI (`@openai/codex`, installed in test/agents; a native binary behind a Node launcher)
 * run for real as a child process, `codex exec "create hello.txt containing HI"`, with a
 * temporary CODEX_HOME whose config.toml points a model provider at the gateway's Responses API.
 * The fake upstream plays the model: its first turn writes the file with one of Codex's tools,
 * its second answers. Two set-ups: a model Codex knows (`gpt-5.5`) on the pinned `/cerebras/v1`,
 * where Codex offers its freeform `apply_patch` (a `custom` tool, answered with a
 * `custom_tool_call`), OpenAI SSE upstream; and a model it does not know on the routed `/v1`,
 * where it falls back to generic metadata and its shell tool `exec_command` (a function call),
 * Ollama NDJSON upstream. Nothing may try to leave 127.0.0.1.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../helpers/fake-upstream.js';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';
import type { UpstreamMessage } from '../helpers/responses-upstream.js';
import { useAgentWorkspace } from './agent-workspace.js';
import { AGENTS_MODULES, agentInstalled } from './agents-install.js';
import { describeRun, runAgent } from './run-agent.js';
import { scriptedTurn } from './scripted-turn.js';

const installed = agentInstalled('Codex CLI', '@openai/codex/package.json');

const CODEX = join(AGENTS_MODULES, '.bin', 'codex');
const PROMPT = 'create hello.txt containing HI';
const RUN_TIMEOUT_MS = 120_000;
const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+HI\n*** End Patch\n';

/** One way to point Codex at the gateway, and the tool call that writes the file there. */
interface Setup {
  readonly name: string;
  /** Appended to the relay's URL (then `/v1`) to make the provider's `base_url`. */
  readonly prefix: string;
  readonly model: string;
  readonly inboundPath: string;
  readonly upstreamPath: string;
  /** The chat-side tool the model calls, and its arguments. */
  readonly call: { readonly name: string; readonly arguments: Record<string, unknown> };
  /** The Responses item types Codex sends back for that call and its output. */
  readonly callItems: readonly [string, string];
  /** Tool types Codex offers in this set-up (a subset of what it sends). */
  readonly toolTypes: readonly string[];
  /** What the file holds afterwards (a patch's added line ends with a newline). */
  readonly content: string;
}

const SETUPS: readonly Setup[] = [
  {
    name: 'gpt-5.5 on pinned /cerebras/v1, apply_patch (custom tool), OpenAI SSE',
    prefix: '/cerebras',
    model: 'gpt-5.5',
    inboundPath: '/cerebras/v1/responses',
    upstreamPath: '/v1/chat/completions',
    // The gateway offers a custom tool upstream as a function of one string, `input`.
    call: { name: 'apply_patch', arguments: { input: PATCH } },
    callItems: ['custom_tool_call', 'custom_tool_call_output'],
    toolTypes: ['function', 'custom', 'tool_search', 'web_search'],
    content: 'HI\n',
  },
  {
    name: 'an unknown model on routed /v1, exec_command (function tool), Ollama NDJSON',
    prefix: '',
    model: 'ollama/llama3.2',
    inboundPath: '/v1/responses',
    upstreamPath: '/api/chat',
    call: { name: 'exec_command', arguments: { cmd: 'printf HI > hello.txt' } },
    callItems: ['function_call', 'function_call_output'],
    toolTypes: ['function', 'namespace', 'web_search'],
    content: 'HI',
  },
];

/**
 * Codex's config.toml: the provider at the gateway, the key read from AIGW_KEY, and (unless
 * `quiet` is false) everything that calls out off: the update check, analytics, OpenTelemetry
 * export, and the plugins, remote plugins, apps and in-app updates features. In `codex exec`
 * 0.171.0 two of them are what matter (tried one at a time): analytics (`ab.chatgpt.com`) and
 * plugins (`github.com`, `api.github.com`, `chatgpt.com`); the rest are off for the interactive
 * CLI and for later versions.
 */
function codexConfig(baseUrl: string, model: string, quiet: boolean): string {
  const provider = [
    `model = "${model}"`,
    'model_provider = "aigw"',
    ...(quiet ? ['check_for_update_on_startup = false'] : []),
    '',
    '[model_providers.aigw]',
    'name = "ai-gateway"',
    `base_url = "${baseUrl}"`,
    'wire_api = "responses"',
    'env_key = "AIGW_KEY"',
  ];
  if (!quiet) return `${provider.join('\n')}\n`;
  const off = [
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[otel]',
    'exporter = "none"',
    '',
    '[features]',
    'plugins = false',
    'remote_plugin = false',
    'apps = false',
    'in_app_updates = false',
  ];
  return `${[...provider, ...off].join('\n')}\n`;
}

/** The parts of a Responses request this suite reads. */
interface ResponsesBody {
  readonly model: string;
  readonly stream?: boolean;
  readonly store?: boolean;
  readonly previous_response_id?: unknown;
  readonly input: readonly { type?: string; role?: string }[];
  readonly tools: readonly {
    type: string;
    name?: string;
    format?: { syntax?: string };
    tools?: readonly { name: string }[];
  }[];
}

/** The parts of an upstream chat request this suite reads (either dialect). */
interface ChatBody {
  readonly stream?: boolean;
  readonly messages: readonly UpstreamMessage[];
  readonly tools: readonly { function: { name: string; parameters?: unknown } }[];
}

describe.skipIf(!installed)('Codex CLI through the gateway', () => {
  const gateway = useGateway();
  const workspace = useAgentWorkspace('codex', () => gateway.url);

  /** Turn 1 writes the file with the set-up's tool; any turn after its result answers. */
  function scriptModel(setup: Setup): void {
    const turn = scriptedTurn((chat) =>
      !chat.hasToolResult && chat.toolNames.includes(setup.call.name)
        ? { calls: [setup.call], argumentPieces: 5 }
        : { text: ['Created', ' hello.txt.'] },
    );
    // More than the two turns expected: whatever else Codex asks gets an answer too.
    for (let index = 0; index < 8; index += 1) gateway.upstream.enqueue(turn);
  }

  async function runCodex(setup: Setup, quiet: boolean) {
    const codexHome = join(workspace.home, '.codex');
    await mkdir(codexHome);
    const baseUrl = `${workspace.relay.url}${setup.prefix}/v1`;
    await writeFile(join(codexHome, 'config.toml'), codexConfig(baseUrl, setup.model, quiet));
    return runAgent(
      CODEX,
      ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', PROMPT],
      {
        cwd: workspace.work,
        timeoutMs: RUN_TIMEOUT_MS,
        env: { ...workspace.baseEnv(), CODEX_HOME: codexHome, AIGW_KEY: CLIENT_KEY },
      },
    );
  }

  it.each(SETUPS)(
    'writes hello.txt and finishes: $name',
    async (setup) => {
      scriptModel(setup);

      const run = await runCodex(setup, true);

      expect(run.exitCode, describeRun(run)).toBe(0);
      expect(run.stdout.trim()).toBe('Created hello.txt.');
      expect(await readFile(join(workspace.work, 'hello.txt'), 'utf8')).toBe(setup.content);

      // At the gateway's door: one stateless Responses request per turn, the whole history each.
      const inbound = workspace.relay.requests;
      expect(inbound.map((request) => `${request.method} ${request.path}`)).toEqual([
        `POST ${setup.inboundPath}`,
        `POST ${setup.inboundPath}`,
      ]);
      const [first, second] = inbound.map((request) => {
        expect(request.headers.authorization).toBe(`Bearer ${CLIENT_KEY}`);
        expect(request.headers['content-encoding']).toBeUndefined();
        return JSON.parse(request.body.toString('utf8')) as ResponsesBody;
      });
      expect(first).toMatchObject({ model: setup.model, stream: true, store: false });
      expect(first?.previous_response_id).toBeUndefined();
      expect(first?.input[0]).toMatchObject({ type: 'message', role: 'developer' });
      const toolTypes = new Set(first?.tools.map((tool) => tool.type));
      for (const type of setup.toolTypes) expect(toolTypes).toContain(type);
      if (setup.call.name === 'apply_patch') {
        const patchTool = first?.tools.find((tool) => tool.name === 'apply_patch');
        expect(patchTool).toMatchObject({ type: 'custom', format: { syntax: 'lark' } });
      }
      expect(second?.input.length).toBe((first?.input.length ?? 0) + 2);
      expect(second?.input.slice(-2).map((item) => item.type)).toEqual(setup.callItems);

      // Upstream: two chat turns, streamed, the tools offered (a custom one as a function of one
      // string, a namespace flattened), the hosted ones left out.
      const upstream = gateway.upstream.requests;
      expect(upstream.map((request) => `${request.method} ${request.path}`)).toEqual([
        `POST ${setup.upstreamPath}`,
        `POST ${setup.upstreamPath}`,
      ]);
      const [turn1, turn2] = upstream.map((request: RecordedRequest) => request.json as ChatBody);
      expect(turn1?.stream).toBe(true);
      const offered = turn1?.tools.map((tool) => tool.function.name) ?? [];
      expect(offered).toContain(setup.call.name);
      expect(offered).not.toContain('web_search');
      expect(offered).not.toContain('tool_search');
      for (const tool of first?.tools ?? []) {
        for (const inner of tool.type === 'namespace' ? (tool.tools ?? []) : []) {
          expect(offered).toContain(inner.name);
        }
      }
      if (setup.call.name === 'apply_patch') {
        const patch = turn1?.tools.find((tool) => tool.function.name === 'apply_patch');
        expect(patch?.function.parameters).toMatchObject({
          properties: { input: { type: 'string' } },
        });
      }
      expect(turn1?.messages[0]?.role).toBe('system');
      const toolResult = turn2?.messages.at(-1);
      expect(toolResult?.role).toBe('tool');
      expect(String(toolResult?.content)).toMatch(/Success|exited with code 0/);

      expect(workspace.trap.attempts).toEqual([]);
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    'the egress trap sees what Codex sends when its update check, analytics and features are on',
    async () => {
      // The control for the assertion above: the same run with only the provider configured
      // reaches for OpenAI's and GitHub's servers through the proxy variables, and the trap
      // records it. Without this, an empty trap could mean a blind one.
      const [setup] = SETUPS as [Setup];
      scriptModel(setup);

      const run = await runCodex(setup, false);

      expect(run.exitCode, describeRun(run)).toBe(0);
      expect(await readFile(join(workspace.work, 'hello.txt'), 'utf8')).toBe(setup.content);
      expect(workspace.trap.attempts.length).toBeGreaterThan(0);
      for (const attempt of workspace.trap.attempts) {
        expect(attempt).toMatch(/^CONNECT ([a-z0-9-]+\.)*(chatgpt|openai|github)\.com:443 /);
      }
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
