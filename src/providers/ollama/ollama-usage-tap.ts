import { Transform, type TransformCallback } from 'node:stream';
import type { Usage } from '../../openai/chat-types.js';
import { toUsage } from './from-ollama-response.js';

/** The last line of a reply is its final object; this much of the tail is kept to find it. */
const TAIL_BYTES = 16 * 1024;

/**
 * Passes a native API reply (`/api/chat`, `/api/generate` NDJSON or JSON, `/api/embed` JSON)
 * through unchanged, keeping only its last bytes, and at the end reports the token counts of its
 * final object (`prompt_eval_count`, `eval_count`), so relayed requests are billed like translated
 * ones. A reply cut short, or whose last line is not such an object, reports nothing.
 */
export function ollamaUsageTap(onUsage: (usage: Usage) => void): Transform {
  let tail: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      tail =
        chunk.length >= TAIL_BYTES
          ? chunk.subarray(chunk.length - TAIL_BYTES)
          : Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      const usage = usageOfLastLine(tail.toString('utf8'));
      if (usage !== undefined) onUsage(usage);
      callback();
    },
  });
}

function usageOfLastLine(text: string): Usage | undefined {
  const lines = text.trimEnd().split('\n');
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  try {
    const parsed = JSON.parse(last) as Record<string, unknown>;
    const prompt = parsed.prompt_eval_count;
    const completion = parsed.eval_count;
    if (
      parsed.done === false ||
      (prompt !== undefined && typeof prompt !== 'number') ||
      (completion !== undefined && typeof completion !== 'number') ||
      (prompt === undefined && completion === undefined)
    ) {
      return undefined;
    }
    return toUsage({
      ...(prompt === undefined ? {} : { prompt_eval_count: prompt }),
      ...(completion === undefined ? {} : { eval_count: completion }),
    });
  } catch {
    return undefined;
  }
}
