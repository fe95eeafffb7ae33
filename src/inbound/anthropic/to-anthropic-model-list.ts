import type { ModelInfo } from '../../openai/chat-types.js';

/** One model in Anthropic's list format. */
export interface AnthropicModelInfo {
  readonly type: 'model';
  readonly id: string;
  readonly display_name: string;
  /** RFC 3339; the epoch when the upstream gave no date. */
  readonly created_at: string;
}

/** `GET /v1/models` in Anthropic's format: one page holding every model. */
export interface AnthropicModelList {
  readonly data: readonly AnthropicModelInfo[];
  readonly has_more: false;
  readonly first_id: string | null;
  readonly last_id: string | null;
}

/**
 * A model list in Anthropic's format, for clients that send `anthropic-version` (its SDKs always
 * do; the OpenAI SDK never does). The id doubles as the display name: the gateway has no other.
 */
export function toAnthropicModelList(models: readonly ModelInfo[]): AnthropicModelList {
  const data = models.map(
    (model): AnthropicModelInfo => ({
      type: 'model',
      id: model.id,
      display_name: model.id,
      created_at: new Date(model.created * 1000).toISOString(),
    }),
  );
  return {
    data,
    has_more: false,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  };
}
