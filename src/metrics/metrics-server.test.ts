import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatewayMetrics } from './gateway-metrics.js';
import { createMetricsServer, type MetricsServer, type MetricsSource } from './metrics-server.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function fetchText(port: number, method: string, path: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: '127.0.0.1', port, method, path, ...(agent === undefined ? {} : { agent }) },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (part: string) => {
          body += part;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const servers: MetricsServer[] = [];

async function started(
  source: MetricsSource = createGatewayMetrics({ collectDefaultMetrics: false }),
  onError?: (error: unknown) => void,
) {
  const server = createMetricsServer(source, {
    host: '127.0.0.1',
    port: 0,
    ...(onError === undefined ? {} : { onError }),
  });
  servers.push(server);
  const { port } = await server.listen();
  return { server, port };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('createMetricsServer', () => {
  it('answers GET /metrics with the exposition text and its content type', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    const { port } = await started(metrics);
    metrics.upstreamAttempt('ollama', 'upstream_timeout');
    const answer = await fetchText(port, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body.split('\n')).toContain(
      'aigw_upstream_errors_total{provider="ollama",code="upstream_timeout"} 1',
    );
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  });

  it('ignores a query string and answers HEAD without a body', async () => {
    const { port } = await started();
    expect((await fetchText(port, 'GET', '/metrics?name[]=x')).status).toBe(200);
    const head = await fetchText(port, 'HEAD', '/metrics');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers another path with a 404 error body', async () => {
    const { port } = await started();
    for (const path of ['/', '/metrics/', '/v1/chat/completions', '/METRICS']) {
      const answer = await fetchText(port, 'GET', path);
      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(answer.body)).toEqual({
        error: {
          message: 'Unknown route.',
          type: 'not_found_error',
          param: null,
          code: 'route_not_found',
        },
      });
    }
  });

  it('answers another method on /metrics with a 405 naming the allowed ones', async () => {
    const { port } = await started();
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const answer = await fetchText(port, method, '/metrics');
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('GET, HEAD');
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'method_not_allowed' } });
    }
  });

  it('answers a render failure with a 500 and reports the cause', async () => {
    const failure = new Error('collect failed');
    const seen: unknown[] = [];
    const source: MetricsSource = {
      contentType: 'text/plain',
      render: () => Promise.reject(failure),
    };
    const { port } = await started(source, (error) => seen.push(error));
    const answer = await fetchText(port, 'GET', '/metrics');
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'internal_error' } });
    expect(answer.body).not.toContain('collect failed');
    expect(seen).toEqual([failure]);
  });

  it('closes promptly with a keep-alive client and an idle half-sent request connected', async () => {
    const { server, port } = await started();
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    const answer = await fetchText(port, 'GET', '/metrics', agent);
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('keep-alive');
    const raw = connect(port, '127.0.0.1');
    // The server destroys the half-sent request's socket: a reset, expected here.
    raw.on('error', () => undefined);
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    raw.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    const rawClosed = new Promise<void>((resolve) => raw.once('close', () => resolve()));

    const startedAt = performance.now();
    await server.close();
    await rawClosed;
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    await expect(fetchText(port, 'GET', '/metrics')).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it('rejects listen on a port in use, and close is harmless twice or before listen', async () => {
    const { port } = await started();
    const clash = createMetricsServer(createGatewayMetrics({ collectDefaultMetrics: false }), {
      host: '127.0.0.1',
      port,
    });
    await expect(clash.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await clash.close();
    await clash.close();
  });
});
