import { hash } from 'node:crypto';
import { randomBase62 } from '../store/store-records.js';

/** 43 base62 characters hold 256 bits: as much as 32 random bytes. */
const SECRET_LENGTH = 43;

/** How much of a secret lists show (`gw-` and 8 characters): enough to tell keys apart. */
const PREFIX_LENGTH = 11;

/** A new virtual key secret: `gw-` + 43 base62 characters (256 random bits). */
export function generateKeySecret(): string {
  return `gw-${randomBase62(SECRET_LENGTH)}`;
}

/** What the store keeps instead of the secret: its SHA-256, in hex. */
export function hashKeySecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** The part of a secret lists show. */
export function keyPrefixOf(secret: string): string {
  return secret.slice(0, PREFIX_LENGTH);
}

/** Whether a presented key has the shape of a virtual key (anything else is never looked up). */
export function looksLikeKeySecret(presented: string): boolean {
  return presented.length === SECRET_LENGTH + 3 && presented.startsWith('gw-');
}
