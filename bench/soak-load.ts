/**
 * The soak's clients: one request of a given kind against the gateway and what came of it, a mixed
 * load run by a fixed number of looping clients until a deadline, and the abort storm. Requests the
 * soak aborts carry `x-request-id: a-…`, so the upstream reports when it saw each abort.
 */
import { Pool } from 'undici';
import { SOAK_KEY } from './soak-procs.js';

export type Provider = 'ollama' | 'cerebras';
export type Kind =
  | 'stream'
  | 'nonstream'
  | 'fail500'
  | 'fail429'
  | 'abortBeforeFirstByte'
  | 'abortMidStream';

/**
 * One cycle of the mixed load, 40 requests: 50% streams, 25% non-streaming, 10% upstream failures
 * (500 and 429), 15% client aborts (before the first byte and mid-stream).
 */
const CYCLE: readonly Kind[] = [
  ...Array<Kind>(20).fill('stream'),
  ...Array<Kind>(10).fill('nonstream'),
  ...Array<Kind>(2).fill('fail500'),
  ...Array<Kind>(2).fill('fail429'),
  ...Array<Kind>(3).fill('abortBeforeFirstByte'),
  ...Array<Kind>(3).fill('abortMidStream'),
];

/** Outcomes the soak scripts; anything else counts against the run. */
export const EXPECTED_OUTCOMES = new Set([
  'stream ok',
  'nonstream ok',
  'scripted 500 → 502',
  'scripted 429 → 429',
  'aborted before first byte',
  'aborted mid-stream',
]);

const MODELS: Record<Provider, string> = { ollama: 'llama3.2', cerebras: 'llama3.1-8b' };
const MARKERS: Partial<Record<Kind, string>> = {
  fail500: '[soak:500]',
  fail429: '[soak:429]',
  abortBeforeFirstByte: '[soak:slow]',
};
const DONE = 'data: [DONE]\n\n';
const ABORT_OUTCOMES: Partial<Record<Kind, string>> = {
  abortBeforeFirstByte: 'aborted before first byte',
  abortMidStream: 'aborted mid-stream',
};
/**
 * Aborted requests get `a-…` ids (watched by the upstream; see soak-abort-join.ts), scripted
 * failures `f-…` (their error log lines are expected), the others `s-…`.
 */
const ID_PREFIXES: Partial<Record<Kind, string>> = {
  abortBeforeFirstByte: 'a-early',
  abortMidStream: 'a-mid',
  fail500: 'f',
  fail429: 'f',
};

export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Tallies of outcomes, and when the soak aborted each watched request (monotonic ms). */
export interface LoadState {
  readonly outcomes: Map<string, number>;
  readonly abortedAt: Map<string, number>;
}

/** Fresh tallies; `abortedAt` may be shared (the join of client and upstream aborts owns it). */
export function newLoadState(abortedAt = new Map<string, number>()): LoadState {
  return { outcomes: new Map(), abortedAt };
}

function count(state: LoadState, outcome: string): void {
  state.outcomes.set(outcome, (state.outcomes.get(outcome) ?? 0) + 1);
}

/** Runs one request of `kind` and tallies its outcome; never throws. */
export async function runOne(
  pool: Pool,
  state: LoadState,
  id: string,
  kind: Kind,
  provider: Provider,
  stream: boolean,
): Promise<void> {
  const controller = new AbortController();
  const abort = (): void => {
    state.abortedAt.set(id, monotonicMs());
    controller.abort();
  };
  // The upstream holds these headers back for 1 s; the client leaves well before.
  const timer = kind === 'abortBeforeFirstByte' ? setTimeout(abort, 50 + Math.random() * 150) : 0;
  const marker = MARKERS[kind];
  const body = JSON.stringify({
    model: MODELS[provider],
    messages: [{ role: 'user', content: `Say hello.${marker === undefined ? '' : ` ${marker}`}` }],
    max_tokens: 64,
    stream,
  });
  try {
    const response = await pool.request({
      method: 'POST',
      path: `/${provider}/v1/chat/completions`,
      headers: {
        authorization: `Bearer ${SOAK_KEY}`,
        'content-type': 'application/json',
        'x-request-id': id,
      },
      body,
      signal: controller.signal,
    });
    let text = '';
    for await (const chunk of response.body) {
      if (kind === 'abortMidStream' && response.statusCode === 200) {
        abort();
        break;
      }
      text += String(chunk);
    }
    if (kind === 'abortMidStream' && controller.signal.aborted) {
      return count(state, 'aborted mid-stream');
    }
    count(state, classify(kind, stream, response.statusCode, text));
  } catch (error) {
    if (controller.signal.aborted) {
      return count(state, ABORT_OUTCOMES[kind] ?? `unexpected ${kind}: aborted`);
    }
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    count(state, `unexpected ${kind}: transport error ${code}`);
  } finally {
    clearTimeout(timer);
  }
}

function classify(kind: Kind, stream: boolean, status: number, text: string): string {
  if (kind === 'fail500' && status === 502) return 'scripted 500 → 502';
  if (kind === 'fail429' && status === 429) return 'scripted 429 → 429';
  if (kind === 'abortBeforeFirstByte') return `unexpected ${kind}: answered ${status} before abort`;
  if (status !== 200) return `unexpected ${kind}: status ${status}`;
  if (!stream)
    return text.includes('"choices"') ? 'nonstream ok' : `unexpected ${kind}: no choices`;
  if (text.includes('data: {"error"')) return `unexpected ${kind}: error event in stream`;
  return text.endsWith(DONE) ? 'stream ok' : `unexpected ${kind}: stream without [DONE]`;
}

/** A client pool to the gateway sized for `connections` concurrent requests. */
export function gatewayPool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1 });
}

/**
 * The mixed load: `clients` loops, each sending one request after another until `deadline`
 * (`Date.now()` ms). Request n has kind `CYCLE[n % 40]`; providers alternate.
 */
export async function mixedLoad(
  url: string,
  state: LoadState,
  clients: number,
  deadline: number,
): Promise<number> {
  const pool = gatewayPool(url, clients);
  let next = 0;
  const client = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const n = next++;
      const kind = CYCLE[n % CYCLE.length] ?? 'stream';
      const cycle = Math.floor(n / CYCLE.length);
      const provider: Provider = (n + cycle) % 2 === 0 ? 'ollama' : 'cerebras';
      // Failures alternate between streaming and not; the other kinds are fixed.
      const stream =
        kind === 'nonstream' ? false : kind.startsWith('fail') ? cycle % 2 === 0 : true;
      await runOne(pool, state, `${ID_PREFIXES[kind] ?? 's'}-${n}`, kind, provider, stream);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  await pool.close();
  return next;
}

/** `total` streams, at most `concurrency` at a time, each aborted on its first chunk. */
export async function abortStorm(
  url: string,
  state: LoadState,
  total: number,
  concurrency: number,
): Promise<number> {
  const pool = gatewayPool(url, concurrency);
  let next = 0;
  const started = performance.now();
  const client = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      const provider: Provider = n % 2 === 0 ? 'ollama' : 'cerebras';
      await runOne(pool, state, `a-storm-${n}`, 'abortMidStream', provider, true);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, client));
  await pool.close();
  return performance.now() - started;
}
