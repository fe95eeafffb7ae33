import { createOpenAiCompatibleProvider } from '../openai-compatible/openai-compatible-provider.js';
import type { ChatProvider, ProviderDeps } from '../provider.js';
import type { VendorProviderSettings } from '../vendor.js';

/**
 * Fields Cerebras answers with a 400 although OpenAI accepts them; dropped so OpenAI clients that
 * send them by default keep working (Cerebras docs, "OpenAI compatibility").
 */
const UNSUPPORTED_FIELDS = [
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'parallel_tool_calls',
  'service_tier',
] as const;

/**
 * Cerebras documents `max_completion_tokens`; `max_tokens` is OpenAI's older name for the same
 * limit, so it is renamed unless the client already sent the newer field.
 */
export function toCerebrasRequest(body: Record<string, unknown>): Record<string, unknown> {
  const { max_tokens: maxTokens, ...rest } = body;
  for (const field of UNSUPPORTED_FIELDS) delete rest[field];
  if (rest.max_completion_tokens == null && maxTokens != null) {
    rest.max_completion_tokens = maxTokens;
  }
  return rest;
}

/** Cerebras: the OpenAI-compatible adapter plus its named quirks. */
export function createCerebrasProvider(
  settings: VendorProviderSettings,
  deps: ProviderDeps,
): ChatProvider {
  return createOpenAiCompatibleProvider({ ...settings, prepareRequest: toCerebrasRequest }, deps);
}
