import type { Vendor } from '../vendor.js';
import { createOpenAiCompatibleProvider } from './openai-compatible-provider.js';

/**
 * Any OpenAI-compatible API (Groq, Together, vLLM, …), relayed as it is: no default address, so
 * only a config file can name one.
 */
export const openAiCompatibleVendor: Vendor<'openai-compatible'> = {
  kind: 'openai-compatible',
  apiKeyRequired: false,
  auth: 'bearer',
  nativeApi: false,
  create: createOpenAiCompatibleProvider,
};
