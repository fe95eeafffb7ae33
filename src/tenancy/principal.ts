/** Who is calling: the identity an authenticated request carries through the gateway. */
export interface Principal {
  /**
   * A non-secret name of the key: a virtual key's id, a static key's digest fingerprint
   * (`key_` + 12 hex digits), or 'anonymous' in development mode.
   */
  readonly keyId: string;
}
