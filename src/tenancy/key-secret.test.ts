import { describe, expect, it } from 'vitest';
import { randomBase62 } from '../store/store-records.js';
import { generateKeySecret, hashKeySecret, keyPrefixOf, looksLikeKeySecret } from './key-secret.js';

describe('virtual key secrets', () => {
  it('are gw- and 43 base62 characters, never twice the same', () => {
    const secrets = new Set(Array.from({ length: 200 }, () => generateKeySecret()));
    expect(secrets.size).toBe(200);
    for (const secret of secrets) {
      expect(secret).toMatch(/^gw-[0-9A-Za-z]{43}$/);
      expect(looksLikeKeySecret(secret)).toBe(true);
    }
  });

  it('draws every base62 character about equally often', () => {
    const text = randomBase62(62_000);
    const counts = new Map<string, number>();
    for (const character of text) counts.set(character, (counts.get(character) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1_200);
    }
  });

  it('are stored as their SHA-256 and listed by a short prefix', () => {
    // `printf gw-abc | sha256sum`
    expect(hashKeySecret('gw-abc')).toBe(
      'a65e6f5ba24ee056c00bc4a2a2c933f2da8f3f421839f09c99437c63e43be8e2',
    );
    expect(hashKeySecret('gw-abc')).not.toBe(hashKeySecret('gw-abd'));
    expect(keyPrefixOf('gw-0123456789abcdef')).toBe('gw-01234567');
  });

  it('tells a virtual key from anything else by its shape', () => {
    expect(looksLikeKeySecret('sk-static-key')).toBe(false);
    expect(looksLikeKeySecret(`gw-${'a'.repeat(42)}`)).toBe(false);
  });
});
