import type { Tenant } from './key-directory.js';

/** Who is calling: the identity an authenticated request carries through the gateway. */
export interface Principal {
  /**
   * A non-secret name of the key: a virtual key's id, a static key's digest fingerprint
   * (`key_` + 12 hex digits), or 'anonymous' in development mode.
   */
  readonly keyId: string;
  /** A virtual key's record, team and recorded spend; undefined for a static key. */
  readonly tenant?: Tenant;
}
