/**
 * The environment-only setup (no GATEWAY_CONFIG): the providers the vendors' own variables
 * configure (OLLAMA_HOST, CEREBRAS_API_KEY, …, as each descriptor names them), and the default
 * provider they imply.
 */
import type { ProviderKind } from '../providers/registry.js';
import type { Vendor } from '../providers/vendor.js';

/** A provider the environment configures; it is named after its kind. */
export interface EnvironmentProviderSettings {
  readonly kind: ProviderKind;
  readonly baseUrl: string;
  readonly apiKey?: string;
}

/** What the vendors' own variables configure, read by {@link environmentProviders}. */
interface EnvironmentProviders {
  readonly providers: readonly EnvironmentProviderSettings[];
  /**
   * The default provider when DEFAULT_PROVIDER is unset: the first provider a variable of its
   * own configured, else the first configured. Ollama needs no variable (it has a default
   * address), so a Cerebras key without OLLAMA_HOST means a cloud-only setup and Cerebras serves
   * the plain `/v1` routes; otherwise (OLLAMA_HOST set, or neither) Ollama.
   */
  readonly implied: string;
  /** Each vendor that is not configured, with the variable it lacks. */
  readonly lacking: ReadonlyMap<string, string>;
}

/**
 * Reads each vendor's own variables (`read` trims and treats blank as unset; `url` validates,
 * recording a problem, and falls back to the vendor's default).
 */
export function environmentProviders(
  vendors: readonly Vendor<ProviderKind>[],
  read: (name: string) => string | undefined,
  url: (name: string, fallback: string | undefined) => string | undefined,
): EnvironmentProviders {
  const providers: EnvironmentProviderSettings[] = [];
  const lacking = new Map<string, string>();
  let named: string | undefined;
  for (const vendor of vendors) {
    const variables = vendor.environment;
    if (variables === undefined) continue;
    // Read even when unused, so a bad value is reported whatever else is set.
    const baseUrl = url(variables.baseUrlVariable, vendor.defaultBaseUrl);
    const keyVariable = variables.apiKeyVariable;
    const apiKey = keyVariable === undefined ? undefined : read(keyVariable);
    if (baseUrl === undefined) {
      lacking.set(vendor.kind, variables.baseUrlVariable);
    } else if (vendor.apiKeyRequired && apiKey === undefined) {
      lacking.set(vendor.kind, keyVariable ?? 'an API key');
    } else {
      providers.push({ kind: vendor.kind, baseUrl, ...(apiKey === undefined ? {} : { apiKey }) });
      const setByUser = [variables.baseUrlVariable, keyVariable].some(
        (name) => name !== undefined && read(name) !== undefined,
      );
      if (setByUser) named ??= vendor.kind;
    }
  }
  return { providers, implied: named ?? providers[0]?.kind ?? '', lacking };
}
