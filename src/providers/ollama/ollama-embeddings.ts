import { UpstreamError, ValidationError } from '../../errors/gateway-error.js';
import type {
  Embedding,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from '../../openai/embeddings-types.js';

/** `POST /api/embed` request (Ollama docs/api.md, "Generate Embeddings"). */
export interface OllamaEmbedRequest {
  readonly model: string;
  readonly input: string | readonly string[];
  readonly dimensions?: number;
}

/** `POST /api/embed` response. */
export interface OllamaEmbedResponse {
  readonly model: string;
  readonly embeddings: readonly (readonly number[])[];
  readonly prompt_eval_count?: number;
}

/**
 * OpenAI embeddings request → Ollama's. Ollama embeds text only: token-id inputs are a 422
 * naming `input` rather than being sent as numbers it would reject or misread.
 */
export function toOllamaEmbedRequest(request: EmbeddingsRequest): OllamaEmbedRequest {
  const { input } = request;
  const isText =
    typeof input === 'string' ||
    (Array.isArray(input) && input.every((item: unknown) => typeof item === 'string'));
  if (!isText) {
    throw new ValidationError(
      'Ollama embeds text only; send input as a string or strings.',
      'input',
    );
  }
  return {
    model: request.model,
    input: input as string | readonly string[],
    ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
  };
}

/** True when `value` has the shape of an `/api/embed` response. */
export function isOllamaEmbedResponse(value: unknown): value is OllamaEmbedResponse {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return (
    typeof body.model === 'string' &&
    Array.isArray(body.embeddings) &&
    body.embeddings.every(
      (vector: unknown) =>
        Array.isArray(vector) && vector.every((item: unknown) => typeof item === 'number'),
    ) &&
    (body.prompt_eval_count === undefined || typeof body.prompt_eval_count === 'number')
  );
}

/** Ollama's vectors → OpenAI's list, floats or base64 (little-endian float32, as OpenAI sends). */
export function fromOllamaEmbedResponse(
  response: OllamaEmbedResponse,
  encodingFormat: 'float' | 'base64',
  expectedCount: number,
): EmbeddingsResponse {
  if (response.embeddings.length !== expectedCount) {
    throw new UpstreamError(
      `The ollama upstream returned ${response.embeddings.length} embeddings for ${expectedCount} inputs.`,
    );
  }
  const data = response.embeddings.map(
    (vector, index): Embedding => ({
      object: 'embedding',
      index,
      embedding: encodingFormat === 'base64' ? toBase64Float32(vector) : vector,
    }),
  );
  const tokens = response.prompt_eval_count ?? 0;
  return {
    object: 'list',
    data,
    model: response.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** float32 little-endian bytes of `vector`, base64-encoded. */
export function toBase64Float32(vector: readonly number[]): string {
  const buffer = Buffer.allocUnsafe(vector.length * 4);
  for (let index = 0; index < vector.length; index++) {
    buffer.writeFloatLE(vector[index] ?? 0, index * 4);
  }
  return buffer.toString('base64');
}
