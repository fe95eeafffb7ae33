/** `POST /v1/embeddings` as we accept and return it (OpenAI's shapes). */

export interface EmbeddingsRequest {
  readonly model: string;
  /** Text, texts, or token ids (one array, or one per input). */
  readonly input: string | readonly string[] | readonly number[] | readonly (readonly number[])[];
  readonly encoding_format?: 'float' | 'base64';
  readonly dimensions?: number;
  readonly user?: string;
  readonly [extra: string]: unknown;
}

export interface Embedding {
  readonly object: 'embedding';
  readonly index: number;
  /** Floats, or (encoding_format base64) little-endian float32 bytes in base64. */
  readonly embedding: readonly number[] | string;
}

export interface EmbeddingsResponse {
  readonly object: 'list';
  readonly data: readonly Embedding[];
  readonly model: string;
  readonly usage: { readonly prompt_tokens: number; readonly total_tokens: number };
  readonly [extra: string]: unknown;
}
