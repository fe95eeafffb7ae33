/**
 * The real entry point as an operator runs it: `node --import tsx src/main.ts` in a child process,
 * configured only through its environment, in front of a fake upstream started here. Covers the
 * refusal to start insecurely, JSON logs on stdout without secrets, and a graceful SIGTERM that
 * lets an in-flight stream finish before the process exits 0.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLY, openAiSseEvents, sseResponse } from '../helpers/fake-upstream-wire.js';
import {
  listening,
  START_TIMEOUT_MS,
  spawnGateway,
  tryConnect,
  useProcessFixture,
  within,
  workersListening,
} from '../helpers/gateway-process.js';
import { chatBody, postChat, readSseEvents } from '../helpers/sse-client.js';
import { unusedPort } from '../helpers/unused-port.js';

const CLIENT_CANARY = 'main-canary-client-key-91b2e4';
const PROVIDER_CANARY = 'csk-main-canary-provider-key-7c1d05';

describe('main process', () => {
  const fixture = useProcessFixture('ai-gateway-main-');

  const baseEnv = () => ({ OLLAMA_HOST: fixture.upstream.url, LOG_LEVEL: 'info' });

  it('refuses to start without ALLOWED_API_KEYS (exit 1, stderr names the variable)', async () => {
    const gateway = spawnGateway({ ...baseEnv(), PORT: String(await unusedPort()) }, fixture.cwd);
    expect(await within(gateway.exited, START_TIMEOUT_MS, 'exit')).toBe(1);
    expect(gateway.stderr()).toContain('ALLOWED_API_KEYS');
  });

  it('refuses DEVELOPMENT_MODE=true on a non-loopback HOST (exit 1)', async () => {
    const gateway = spawnGateway(
      { ...baseEnv(), DEVELOPMENT_MODE: 'true', HOST: '0.0.0.0', PORT: String(await unusedPort()) },
      fixture.cwd,
    );
    expect(await within(gateway.exited, START_TIMEOUT_MS, 'exit')).toBe(1);
    expect(gateway.stderr()).toMatch(/DEVELOPMENT_MODE/);
  });

  // Log lines must never make requests wait: a container runtime or journald that stops reading
  // fills the pipe (64 KiB) within a few hundred requests.
  it('keeps serving while nobody reads its stdout, and loses no line once the reader is back', async () => {
    const port = await unusedPort();
    const gateway = spawnGateway(
      { ...baseEnv(), PORT: String(port), ALLOWED_API_KEYS: CLIENT_CANARY },
      fixture.cwd,
    );
    await listening(gateway);
    gateway.child.stdout?.pause();
    const total = 2_000;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        next += 1;
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(response.status).toBe(200);
        await response.text();
      }
    };
    // ~700 KB of access lines against a stalled 64 KiB pipe.
    await within(Promise.all(Array.from({ length: 16 }, worker)), 20_000, 'requests');
    gateway.child.stdout?.resume();
    gateway.child.kill('SIGTERM');
    expect(await within(gateway.exited, 10_000, 'exit after SIGTERM')).toBe(0);
    const served = gateway
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"msg":"request completed"') && line.includes('/healthz'));
    expect(served).toHaveLength(total);
  });

  it('serves /healthz with keys, logs JSON lines on stdout and never a key', async () => {
    const port = await unusedPort();
    const gateway = spawnGateway(
      {
        ...baseEnv(),
        PORT: String(port),
        ALLOWED_API_KEYS: `other-key-00000000,${CLIENT_CANARY}`,
        CEREBRAS_API_KEY: PROVIDER_CANARY,
        CEREBRAS_BASE_URL: `${fixture.upstream.url}/v1`,
      },
      fixture.cwd,
    );
    await listening(gateway);
    const url = `http://127.0.0.1:${port}`;

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ok = await postChat(url, '/ollama/v1/chat/completions', chatBody(false), {
      apiKey: CLIENT_CANARY,
    });
    expect(ok.status).toBe(200);
    await ok.text();
    const wrong = await postChat(url, '/v1/chat/completions', chatBody(false), {
      apiKey: `${CLIENT_CANARY}x`,
    });
    expect(wrong.status).toBe(401);
    await wrong.text();
    // The fixture.upstream rejects and echoes the provider key: logged as an error, key scrubbed.
    fixture.upstream.enqueue({
      status: 401,
      body: { error: { message: `Invalid key ${PROVIDER_CANARY} (Bearer ${PROVIDER_CANARY})` } },
    });
    const rejected = await postChat(url, '/cerebras/v1/chat/completions', chatBody(false), {
      apiKey: CLIENT_CANARY,
    });
    expect(rejected.status).toBe(502);
    await rejected.text();
    expect(fixture.upstream.requests.at(-1)?.headers.authorization).toBe(
      `Bearer ${PROVIDER_CANARY}`,
    );

    // Stop the process gracefully so every line is flushed before reading them.
    gateway.child.kill('SIGTERM');
    expect(await within(gateway.exited, 10_000, 'exit after SIGTERM')).toBe(0);
    const lines = gateway
      .stdout()
      .split('\n')
      .filter((line) => line !== '');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const access = entries.filter((entry) => entry.msg === 'request completed');
    expect(access.map((entry) => entry.status)).toEqual([200, 200, 401, 502]);
    const summaries = entries.filter((entry) => String(entry.msg).startsWith('ai-gateway on '));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      level: 'info',
      listen: url,
      defaultProvider: 'ollama',
      providers: [
        { name: 'ollama', kind: 'ollama', baseUrl: fixture.upstream.url },
        { name: 'cerebras', kind: 'cerebras', baseUrl: `${fixture.upstream.url}/v1` },
      ],
      routes: ['/v1/*', '/ollama/v1/*', '/cerebras/v1/*', '/ollama/api/*'],
    });
    expect(entries.some((entry) => entry.level === 'error')).toBe(true);
    for (const output of [gateway.stdout(), gateway.stderr()]) {
      expect(output).not.toContain(CLIENT_CANARY);
      expect(output).not.toContain(PROVIDER_CANARY);
    }
  });

  it('on SIGTERM lets an in-flight stream finish, refuses new connections, then exits 0', async () => {
    const port = await unusedPort();
    const gateway = spawnGateway(
      {
        ...baseEnv(),
        PORT: String(port),
        ALLOWED_API_KEYS: CLIENT_CANARY,
        CEREBRAS_API_KEY: PROVIDER_CANARY,
        CEREBRAS_BASE_URL: `${fixture.upstream.url}/v1`,
        SHUTDOWN_TIMEOUT_MS: '3000',
      },
      fixture.cwd,
    );
    await listening(gateway);
    const url = `http://127.0.0.1:${port}`;

    // About a second of streaming: ten pieces 100 ms apart.
    const pieces = Array.from({ length: 10 }, (_, index) => `piece${index} `);
    fixture.upstream.enqueue(sseResponse(openAiSseEvents(pieces), { chunkDelayMs: 100 }));
    const response = await postChat(url, '/cerebras/v1/chat/completions', chatBody(true), {
      apiKey: CLIENT_CANARY,
    });
    expect(response.status).toBe(200);

    let signalled = false;
    let refusedDuringDrain: Promise<string> | undefined;
    const events = await within(
      readSseEvents(response, () => {
        if (!signalled) {
          signalled = true;
          gateway.child.kill('SIGTERM');
          // Give the process a moment to stop listening, then try a new connection.
          refusedDuringDrain = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
            tryConnect(port),
          );
        }
        return undefined;
      }),
      5_000,
      'stream during shutdown',
    );
    expect(signalled).toBe(true);
    expect(events.at(-1)?.data).toBe('[DONE]');
    const text = events
      .filter((event) => event.data !== '[DONE]')
      .map((event) => JSON.parse(event.data) as { choices: Array<{ delta: { content?: string } }> })
      .map((chunk) => chunk.choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe(pieces.join(''));
    expect(text).not.toBe(DEFAULT_REPLY);

    const exitCode = await within(gateway.exited, 5_000, 'exit after the drain');
    expect(await refusedDuringDrain).toBe('ECONNREFUSED');
    expect(await tryConnect(port)).toBe('ECONNREFUSED');
    // The client keeps its connection alive after the stream, as every SDK does: the drain must
    // not wait for that idle socket until the shutdown timeout.
    expect(gateway.stdout()).not.toMatch(/drain timed out/);
    expect(exitCode).toBe(0);
    expect(gateway.stdout()).toMatch(/"msg":"stopped"/);
  });
});

describe('main process with WORKERS=2', () => {
  const fixture = useProcessFixture('ai-gateway-workers-');
  const workersEnv = (port: number) => ({
    OLLAMA_HOST: fixture.upstream.url,
    LOG_LEVEL: 'info',
    PORT: String(port),
    ALLOWED_API_KEYS: CLIENT_CANARY,
    WORKERS: '2',
  });

  it('serves from two worker processes, sums their metrics, and drains them all on SIGTERM', async () => {
    const port = await unusedPort();
    const metricsPort = await unusedPort();
    const gateway = spawnGateway(
      { ...workersEnv(port), METRICS_PORT: String(metricsPort) },
      fixture.cwd,
    );
    await workersListening(gateway, 2);
    const url = `http://127.0.0.1:${port}`;
    for (let index = 0; index < 20; index++) {
      // A fresh connection each time, so the kernel or the primary can hand it to either worker.
      const response = await fetch(`${url}/v1/models`, {
        headers: { authorization: `Bearer ${CLIENT_CANARY}`, connection: 'close' },
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    // The primary's /metrics sums both workers' counters.
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const counted = scrape
      .split('\n')
      .filter((line) => /^aigw_requests_total\{.*route="\/v1\/models"/.test(line))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    expect(counted).toBe(20);
    gateway.child.kill('SIGTERM');
    expect(await within(gateway.exited, 10_000, 'exit after SIGTERM')).toBe(0);
    const access = gateway
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"msg":"request completed"'))
      .map((line) => JSON.parse(line) as { pid: number });
    expect(access).toHaveLength(20);
    expect(new Set(access.map((entry) => entry.pid)).size).toBe(2);
    expect(gateway.stdout()).toContain('"workers":2');
  });

  // systemd (KillMode=control-group) and `kill -- -PGID` signal every process: each worker gets
  // SIGTERM twice, once directly and once from the primary. The second must not kill it mid-drain.
  it('drains every worker when SIGTERM reaches the whole process group', async () => {
    const port = await unusedPort();
    const gateway = spawnGateway(workersEnv(port), fixture.cwd, { ownProcessGroup: true });
    await workersListening(gateway, 2);
    const group = gateway.child.pid;
    if (group === undefined) throw new Error('no pid');
    process.kill(-group, 'SIGTERM');
    expect(await within(gateway.exited, 10_000, 'exit after SIGTERM')).toBe(0);
    const stopped = gateway
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"msg":"stopped"'));
    expect(stopped).toHaveLength(2);
  });
});

describe('main process with METRICS_PORT', () => {
  const fixture = useProcessFixture('ai-gateway-metrics-');

  it('serves /metrics on its own listener only, without keys in it', async () => {
    const port = await unusedPort();
    const metricsPort = await unusedPort();
    const gateway = spawnGateway(
      {
        OLLAMA_HOST: fixture.upstream.url,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        ALLOWED_API_KEYS: CLIENT_CANARY,
      },
      fixture.cwd,
    );
    await listening(gateway);
    const url = `http://127.0.0.1:${port}`;
    const ok = await postChat(url, '/ollama/v1/chat/completions', chatBody(false), {
      apiKey: CLIENT_CANARY,
    });
    expect(ok.status).toBe(200);
    await ok.text();
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await scrape.text();
    expect(text).toMatch(/^aigw_requests_total\{.*route="\/ollama\/v1\/chat\/completions".*\} 1$/m);
    expect(text).toContain('aigw_nodejs_eventloop_lag_seconds');
    expect(text).not.toContain(CLIENT_CANARY);
    const onPublicPort = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${CLIENT_CANARY}` },
    });
    expect(onPublicPort.status).toBe(404);
    await onPublicPort.text();
  });
});

describe('main process with GATEWAY_CONFIG', () => {
  const fixture = useProcessFixture('ai-gateway-config-');

  it('routes an alias from the file to its deployment, with the key from the environment', async () => {
    const file = join(fixture.cwd, 'gateway.yaml');
    await writeFile(
      file,
      [
        'providers:',
        '  vendor:',
        '    kind: openai-compatible',
        `    base_url: ${fixture.upstream.url}/v1`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's own ${VAR} syntax
        '    api_key: "${VENDOR_KEY}"',
        'models:',
        '  smart:',
        '    aliases: [clever]',
        '    deployments:',
        '      - { provider: vendor, model: fixture.upstream-model }',
      ].join('\n'),
    );
    const port = await unusedPort();
    const gateway = spawnGateway(
      {
        PORT: String(port),
        ALLOWED_API_KEYS: CLIENT_CANARY,
        GATEWAY_CONFIG: file,
        VENDOR_KEY: PROVIDER_CANARY,
      },
      fixture.cwd,
    );
    await listening(gateway);
    const response = await postChat(
      `http://127.0.0.1:${port}`,
      '/v1/chat/completions',
      chatBody(false, 'hi', 'clever'),
      { apiKey: CLIENT_CANARY },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-aigw-deployment')).toBe('vendor/fixture.upstream-model');
    await response.text();
    const sent = fixture.upstream.requests.at(-1);
    expect(sent?.json).toMatchObject({ model: 'fixture.upstream-model' });
    expect(sent?.headers.authorization).toBe(`Bearer ${PROVIDER_CANARY}`);
  });

  it('refuses to start on a bad file, naming the file, the path and the problem', async () => {
    const file = join(fixture.cwd, 'broken.yaml');
    await writeFile(
      file,
      ['providers:', '  vendor:', '    kind: openai-compatible', '    base_ulr: http://x'].join(
        '\n',
      ),
    );
    const gateway = spawnGateway(
      { PORT: String(await unusedPort()), ALLOWED_API_KEYS: CLIENT_CANARY, GATEWAY_CONFIG: file },
      fixture.cwd,
    );
    expect(await within(gateway.exited, START_TIMEOUT_MS, 'exit')).toBe(1);
    expect(gateway.stderr()).toContain('broken.yaml: providers.vendor.base_ulr');
  });
});
