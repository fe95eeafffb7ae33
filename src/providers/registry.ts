import { randomBytes } from 'node:crypto';
import { cerebrasVendor } from './cerebras/cerebras-vendor.js';
import { ollamaVendor } from './ollama/ollama-vendor.js';
import { openAiCompatibleVendor } from './openai-compatible/openai-compatible-vendor.js';
import type { ChatProvider } from './provider.js';
import { watchStaleConnections } from './shared/stale-connections.js';
import {
  createUpstreamClient,
  type UpstreamClient,
  type UpstreamObservers,
} from './shared/upstream-client.js';
import type { Vendor } from './vendor.js';

/**
 * Every vendor the gateway can talk to: the only list of provider kinds. The config file's kinds,
 * default base URLs and required keys are checked against it, and the environment-only setup
 * reads the variables its vendors name. In this order `kind` problems list them and the
 * environment-only setup configures them (Ollama first).
 */
export const VENDORS = [ollamaVendor, openAiCompatibleVendor, cerebrasVendor] as const;

/** `kind:` of a provider: one of the {@link VENDORS}. */
export type ProviderKind = (typeof VENDORS)[number]['kind'];

export interface ProviderTimeouts {
  readonly connectTimeoutMs: number;
  readonly firstByteTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/**
 * One named upstream, as the config file or the environment describes it. Its name is its id in
 * routes (`/{name}/v1/...`), logs and metrics. Defined here, with the kinds, so that config/
 * imports providers/ and never the other way round.
 */
export interface ProviderConfig {
  readonly name: string;
  readonly kind: ProviderKind;
  readonly baseUrl: string;
  /**
   * Sent in its vendor's auth header (`Authorization: Bearer` or `x-api-key`); in the file only
   * as `${ENV_VAR}`, never literally.
   */
  readonly apiKey?: string;
  /** Extra headers for every upstream request (values may be `${ENV_VAR}`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeouts: ProviderTimeouts;
}

/** The providers of a config (a GatewayConfig): all the registry reads of it. */
interface ProvidersConfig {
  readonly providers: readonly ProviderConfig[];
}

export interface ProviderRegistry {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  /** Closes every upstream connection pool. */
  close(): Promise<void>;
}

/** Random bytes per id: 24 URL-safe characters. */
const ID_BYTES = 18;
/** Ids drawn per `randomBytes` call: a call costs far more than slicing an id from the pool. */
const IDS_PER_DRAW = 256;

/**
 * Makes 24-character, URL-safe id suffixes (144 random bits each: unique without a counter shared
 * across processes), cut from a pool of random bytes refilled `IDS_PER_DRAW` ids at a time.
 */
export function createIdGenerator(draw: (size: number) => Buffer = randomBytes): () => string {
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset + ID_BYTES > pool.length) {
      pool = draw(ID_BYTES * IDS_PER_DRAW);
      offset = 0;
    }
    const id = pool.toString('base64url', offset, offset + ID_BYTES);
    offset += ID_BYTES;
    return id;
  };
}

/** Every credential the providers hold: scrubbed from logs and relayed upstream text. */
export function providerSecrets(config: ProvidersConfig): readonly string[] {
  return config.providers.flatMap(secretsOf);
}

function secretsOf(provider: ProviderConfig): string[] {
  return [
    ...(provider.apiKey === undefined ? [] : [provider.apiKey]),
    ...Object.values(provider.headers),
  ];
}

/** The vendor of `kind` among `vendors`; the config was validated against them, so it exists. */
function vendorOf(kind: string, vendors: readonly Vendor[]): Vendor {
  const vendor = vendors.find((candidate) => candidate.kind === kind);
  if (vendor === undefined) throw new Error(`No vendor of kind '${kind}' is registered.`);
  return vendor;
}

/**
 * Configured providers → providers, each built by its vendor's factory on its own pooled upstream
 * client. `observers` hear of what the clients do on their own (a request repeated after a stale
 * connection). `vendors` is {@link VENDORS} but in tests that add one.
 */
export function createProviders(
  config: ProvidersConfig,
  observers: UpstreamObservers = {},
  vendors: readonly Vendor[] = VENDORS,
): ProviderRegistry {
  // Every kind is looked up before any pool or watcher is opened, so a stray one leaks nothing.
  const configured = config.providers.map((settings) => ({
    settings,
    vendor: vendorOf(settings.kind, vendors),
  }));
  const clients: UpstreamClient[] = [];
  const staleConnections = watchStaleConnections();
  const providers = new Map<string, ChatProvider>();
  const generateId = createIdGenerator();
  for (const { settings, vendor } of configured) {
    const upstream = createUpstreamClient(
      {
        provider: settings.name,
        baseUrl: settings.baseUrl,
        headers: settings.headers,
        apiKey:
          settings.apiKey === undefined
            ? undefined
            : { value: settings.apiKey, style: vendor.auth },
        ...settings.timeouts,
      },
      { ...observers, staleConnections },
    );
    clients.push(upstream);
    const secrets = secretsOf(settings);
    providers.set(
      settings.name,
      vendor.create({ name: settings.name, secrets }, { upstream, now: Date.now, generateId }),
    );
  }
  return {
    providers,
    async close() {
      staleConnections.close();
      await Promise.all(clients.map((client) => client.close()));
    },
  };
}

/** The configured providers that also relay their vendor's own API (`/{name}/api/*`). */
export function nativeApiProviders(config: ProvidersConfig): readonly string[] {
  return config.providers
    .filter((provider) => vendorOf(provider.kind, VENDORS).nativeApi)
    .map((provider) => provider.name);
}
