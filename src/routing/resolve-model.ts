import type { ChatProvider } from '../providers/provider.js';

/** Which provider serves a model name on the unprefixed `/v1/...` routes, and under what name. */
export interface ModelTarget {
  readonly provider: ChatProvider;
  /** The name the provider knows the model by. */
  readonly model: string;
}

/**
 * `provider/model` (e.g. `cerebras/llama-3.3-70b`, `ollama/llama3.2`) goes to that configured
 * provider with the prefix removed; any other name goes to the default provider unchanged, so
 * Ollama names that contain a slash themselves (`hf.co/org/model`, `user/model`) keep working.
 */
export function resolveModel(
  model: string,
  providers: ReadonlyMap<string, ChatProvider>,
  defaultProvider: ChatProvider,
): ModelTarget {
  const slash = model.indexOf('/');
  if (slash > 0 && slash < model.length - 1) {
    const provider = providers.get(model.slice(0, slash));
    if (provider !== undefined) return { provider, model: model.slice(slash + 1) };
  }
  return { provider: defaultProvider, model };
}
