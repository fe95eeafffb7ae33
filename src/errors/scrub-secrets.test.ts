import { describe, expect, it } from 'vitest';
import { scrubSecrets } from './scrub-secrets.js';

describe('scrubSecrets', () => {
  it('removes known secrets wherever they appear', () => {
    expect(
      scrubSecrets('bad key my-canary-value given; my-canary-value', ['my-canary-value']),
    ).toBe('bad key [REDACTED] given; [REDACTED]');
  });

  it.each([
    ['Incorrect API key provided: sk-proj-abc123def456', 'sk-proj'],
    ['csk-9x8y7z6w5v4u3t2s rejected', 'csk-9x8'],
    ['header was Bearer abc.def.ghi', 'abc.def'],
    ['GET https://user:hunter2@host/x failed', 'hunter2'],
    ['GET https://host/x?api_key=zzz123&b=1 failed', 'zzz123'],
  ])('removes credential-shaped tokens: %s', (text, leaked) => {
    const scrubbed = scrubSecrets(text);
    expect(scrubbed).not.toContain(leaked);
    expect(scrubbed).toContain('[REDACTED]');
  });

  it('leaves ordinary text alone and caps the length', () => {
    expect(scrubSecrets('model not found')).toBe('model not found');
    expect(scrubSecrets('x'.repeat(50), [], 10)).toBe(`${'x'.repeat(10)}…`);
  });
});
