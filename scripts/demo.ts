/**
 * `npm run demo`: the real gateway (src/main.ts, as a child process) in front of the fake upstream,
 * with both providers configured, and curl lines to paste. Needs no Ollama and no cloud key.
 * Stops on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { startFakeUpstream } from '../test/helpers/fake-upstream.js';

const PORT = process.env.PORT ?? '8080';
const KEY = 'demo-key-123456';

const upstream = await startFakeUpstream({ chunkDelayMs: 60 });
const gateway = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    HOST: '127.0.0.1',
    PORT,
    ALLOWED_API_KEYS: KEY,
    OLLAMA_HOST: upstream.url,
    CEREBRAS_BASE_URL: `${upstream.url}/v1`,
    CEREBRAS_API_KEY: 'demo-provider-key',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  },
});

const base = `http://127.0.0.1:${PORT}`;
const auth = `-H 'Authorization: Bearer ${KEY}'`;
const json = `-H 'Content-Type: application/json'`;
const body = (extra: string) =>
  `'{"model":"llama3.2","messages":[{"role":"user","content":"Hello!"}]${extra}}'`;
process.stdout.write(`
Fake upstream (OpenAI + Ollama wire formats): ${upstream.url}
Gateway: ${base}   key: ${KEY}

  curl ${base}/healthz
  curl ${base}/readyz
  curl ${auth} ${base}/v1/models
  curl ${auth} ${base}/cerebras/v1/models
  curl ${auth} ${json} ${base}/v1/chat/completions -d ${body('')}
  curl -N ${auth} ${json} ${base}/v1/chat/completions -d ${body(',"stream":true')}
  curl -N ${auth} ${json} ${base}/cerebras/v1/chat/completions -d ${body(',"stream":true,"stream_options":{"include_usage":true}')}
  curl -i ${base}/v1/models            # 401 in the OpenAI error envelope

Ctrl-C stops both.
`);

const stop = async () => {
  gateway.kill('SIGTERM');
  await upstream.close();
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
gateway.once('exit', (code) => {
  void upstream.close().finally(() => process.exit(code ?? 0));
});
