import type { ProviderFactory } from './provider.js';
import type { AuthHeaderStyle } from './shared/upstream-client.js';

/**
 * What a vendor's factory is given besides its upstream client, which already holds the base URL,
 * the timeouts and the credential headers.
 */
export interface VendorProviderSettings {
  /** The provider's name: its id in routes, logs and error messages. */
  readonly name: string;
  /** Its own credentials (API key, header values), scrubbed from anything relayed or logged. */
  readonly secrets: readonly string[];
}

/** The variables that configure a vendor when there is no config file (GATEWAY_CONFIG). */
export interface VendorEnvironment {
  /** Its base URL; the vendor's default when unset. */
  readonly baseUrlVariable: string;
  /** Its API key, sent in the vendor's auth header. */
  readonly apiKeyVariable?: string;
}

/**
 * Everything the gateway knows about one vendor, in the vendor's own folder: adding a vendor is
 * adding one of these to `VENDORS` in registry.ts. Read at start-up only. The vendor's quirks
 * (fields it refuses, renamed fields) are wired in by its factory, next to which they live.
 */
export interface Vendor<Kind extends string = string> {
  /** `kind:` in the config file; in the environment-only setup also the provider's name. */
  readonly kind: Kind;
  /** Used when the config leaves `base_url` out; without one, `base_url` is required. */
  readonly defaultBaseUrl?: string;
  /** A provider of this kind cannot be configured without `api_key`. */
  readonly apiKeyRequired: boolean;
  /** The header `api_key` is sent in. */
  readonly auth: AuthHeaderStyle;
  /**
   * Configures it without a config file. It is configured when it has what it needs (a base URL,
   * and a key if it requires one); absent, the vendor is configured through the file only.
   */
  readonly environment?: VendorEnvironment;
  /** Relays the vendor's own API under `/{name}/api/*`: its providers have `passthrough`. */
  readonly nativeApi: boolean;
  readonly create: ProviderFactory<VendorProviderSettings>;
}
