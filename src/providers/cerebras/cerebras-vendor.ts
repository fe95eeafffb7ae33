import type { Vendor } from '../vendor.js';
import { createCerebrasProvider } from './cerebras-provider.js';

/** Cerebras's cloud: the OpenAI-compatible adapter with its quirks, enabled by its key. */
export const cerebrasVendor: Vendor<'cerebras'> = {
  kind: 'cerebras',
  defaultBaseUrl: 'https://api.cerebras.ai/v1',
  apiKeyRequired: true,
  auth: 'bearer',
  environment: { baseUrlVariable: 'CEREBRAS_BASE_URL', apiKeyVariable: 'CEREBRAS_API_KEY' },
  nativeApi: false,
  create: createCerebrasProvider,
};
