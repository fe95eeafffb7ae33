import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-body-parser.js';

describe('jsonDepthExceeds', () => {
  it('counts objects and arrays', () => {
    expect(jsonDepthExceeds('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds(`${'['.repeat(101)}${']'.repeat(101)}`, 100)).toBe(true);
  });

  it('ignores brackets inside strings, including after escaped quotes', () => {
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(50)}"}`, 2)).toBe(false);
    expect(jsonDepthExceeds('{"a":"\\"[[[[[[","b":1}', 1)).toBe(false);
    expect(jsonDepthExceeds('{"a":"\\\\","b":[[1]]}', 2)).toBe(true);
  });
});
