import type { GatewayError } from '../errors/gateway-error.js';
import type { StreamChunk } from '../providers/provider.js';
import { openAiErrorBody } from './openai-error-body.js';
import { isUsageChunk, type SseFrameEncoder } from './sse.js';

const DONE = 'data: [DONE]\n\n';

/** `data: {chunk}`, with the upstream's own text when it is relayed unchanged. */
function chunkFrame({ chunk, json }: StreamChunk): string {
  return `data: ${json ?? JSON.stringify(chunk)}\n\n`;
}

const end = (): string => DONE;

/** The in-stream error: the OpenAI SDKs raise an `APIError` from a `data: {"error":…}` event. */
const errorFrame = (error: GatewayError): string =>
  `data: ${JSON.stringify(openAiErrorBody(error))}\n\n`;

const WITH_USAGE: SseFrameEncoder = { chunk: chunkFrame, end, error: errorFrame };

/** The usage chunk is sent only to a client that asked (`stream_options.include_usage`). */
const WITHOUT_USAGE: SseFrameEncoder = {
  chunk: (item) => (isUsageChunk(item.chunk) ? '' : chunkFrame(item)),
  end,
  error: errorFrame,
};

/**
 * Chat Completions' frames: one `data:` event per chunk, `data: [DONE]` at a normal end, and
 * after a failure `data: {"error":…}` with no `[DONE]`. `includeUsage` is the request's
 * `stream_options.include_usage`. Both encoders are built once: they hold no per-request state.
 */
export function openAiSseFrames(includeUsage: boolean): SseFrameEncoder {
  return includeUsage ? WITH_USAGE : WITHOUT_USAGE;
}
