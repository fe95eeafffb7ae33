/**
 * The benchmark's yardsticks: what Node itself, and Node with Fastify, allow on this machine. A
 * server that relays POST bodies to the upstream's `/v1/chat/completions` through a pooled undici
 * `Pool` and streams the answer back as it comes, with no features at all (no auth, validation,
 * logging, headers, error handling). The gateway's cost over them is the cost of the gateway.
 * Env: BARE_UPSTREAM_URL (required); BARE_FRAMEWORK `node` (default: `node:http`) or `fastify`
 * (Fastify 5 with no logger and no hook, the body read as a Buffer); BARE_PORT (0: any).
 * Prints `ready <url>` once listening. Run compiled (`npm run bench` builds it to dist/bench/):
 * a TypeScript loader's own memory would be counted in the relay's RSS.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Pool } from 'undici';

const upstreamUrl = process.env.BARE_UPSTREAM_URL;
if (upstreamUrl === undefined) throw new Error('BARE_UPSTREAM_URL is required');
const framework = process.env.BARE_FRAMEWORK ?? 'node';
if (framework !== 'node' && framework !== 'fastify') {
  throw new Error(`BARE_FRAMEWORK must be node or fastify (got ${framework})`);
}
const port = Number(process.env.BARE_PORT ?? '0');
const pool = new Pool(upstreamUrl, { keepAliveTimeout: 4_000 });

const relay = (body: Buffer) =>
  pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body,
  });
const contentType = (headers: Record<string, unknown>) =>
  String(headers['content-type'] ?? 'application/json');

/** `node:http`: the body collected by hand, the answer written part by part. */
async function nodeRelay(): Promise<{ address: AddressInfo; close: () => void }> {
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      relay(Buffer.concat(parts))
        .then(async (upstream) => {
          response.writeHead(upstream.statusCode, {
            'content-type': contentType(upstream.headers),
          });
          for await (const part of upstream.body) response.write(part);
          response.end();
        })
        .catch(() => response.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { address: server.address() as AddressInfo, close: () => server.close() };
}

/** Fastify: its body reading, routing and reply, the upstream body piped as Fastify pipes streams. */
async function fastifyRelay(): Promise<{ address: AddressInfo; close: () => void }> {
  const app = Fastify({ logger: false });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  app.post('/v1/chat/completions', async (request, reply) => {
    const upstream = await relay(request.body as Buffer);
    return reply
      .code(upstream.statusCode)
      .header('content-type', contentType(upstream.headers))
      .send(upstream.body);
  });
  await app.listen({ port, host: '127.0.0.1' });
  return { address: app.server.address() as AddressInfo, close: () => void app.close() };
}

const server = framework === 'fastify' ? await fastifyRelay() : await nodeRelay();
process.stdout.write(`ready http://127.0.0.1:${server.address.port}\n`);
const stop = () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
