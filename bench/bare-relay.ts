/**
 * The benchmark's yardstick: what Node itself allows on this machine. A `node:http` server that
 * relays POST bodies to the upstream's `/v1/chat/completions` through a pooled undici `Pool`, and
 * streams the answer back as it comes, with no features at all (no auth, validation, logging,
 * headers, error handling). The gateway's cost over it is the cost of the gateway.
 * Env: BARE_UPSTREAM_URL (required). Prints `ready <url>` once listening.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstreamUrl = process.env.BARE_UPSTREAM_URL;
if (upstreamUrl === undefined) throw new Error('BARE_UPSTREAM_URL is required');
const pool = new Pool(upstreamUrl, { keepAliveTimeout: 4_000 });

const server = createServer((request, response) => {
  const parts: Buffer[] = [];
  request.on('data', (part: Buffer) => parts.push(part));
  request.on('end', () => {
    pool
      .request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(parts),
      })
      .then(async (upstream) => {
        response.writeHead(upstream.statusCode, {
          'content-type': String(upstream.headers['content-type'] ?? 'application/json'),
        });
        for await (const part of upstream.body) response.write(part);
        response.end();
      })
      .catch(() => response.destroy());
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`ready http://127.0.0.1:${address.port}\n`);
});
const stop = () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
