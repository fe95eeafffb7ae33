/**
 * The benchmark's upstream: the project's fake upstream (OpenAI JSON/SSE and Ollama JSON/NDJSON)
 * in its own process, keeping no request records. Prints `ready <url>` once listening.
 * Env: BENCH_UPSTREAM_PORT (default 0), BENCH_CHUNKS (content chunks per streamed reply, 20).
 */
import { startFakeUpstream } from '../test/helpers/fake-upstream.js';

const chunks = Number(process.env.BENCH_CHUNKS ?? '20');
const upstream = await startFakeUpstream({
  port: Number(process.env.BENCH_UPSTREAM_PORT ?? '0'),
  record: false,
  replyPieces: Array.from({ length: chunks }, (_, index) => `token${index} `),
});
process.stdout.write(`ready ${upstream.url}\n`);
const stop = () => void upstream.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
