import type { Vendor } from '../vendor.js';
import { createOllamaProvider } from './ollama-provider.js';

/** Ollama, through its native API; configured without any variable (it has a local default). */
export const ollamaVendor: Vendor<'ollama'> = {
  kind: 'ollama',
  defaultBaseUrl: 'http://localhost:11434',
  apiKeyRequired: false,
  // A key is for an Ollama behind an authenticating proxy, or ollama.com: both take a Bearer token.
  auth: 'bearer',
  environment: { baseUrlVariable: 'OLLAMA_HOST' },
  nativeApi: true,
  create: createOllamaProvider,
};
