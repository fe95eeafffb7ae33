import { describe, expect, it } from 'vitest';
import { tagRawJson, toJsonText } from './raw-json.js';

describe('raw JSON pass-through', () => {
  it('sends the upstream text of a tagged chunk, byte for byte', () => {
    const text = '{"id":"c","choices":[],"vendor":{"b":1,"a":2}}';
    const chunk = tagRawJson(JSON.parse(text) as object, text);
    expect(toJsonText(chunk)).toBe(text);
    expect(JSON.stringify(chunk)).toBe('{"id":"c","choices":[],"vendor":{"b":1,"a":2}}');
    expect(Object.keys(chunk)).toEqual(['id', 'choices', 'vendor']);
  });

  it('serialises untagged chunks and refuses text that would break SSE framing', () => {
    expect(toJsonText({ a: 1 })).toBe('{"a":1}');
    const multiLine = '{"a":\n1}';
    expect(toJsonText(tagRawJson(JSON.parse(multiLine) as object, multiLine))).toBe('{"a":1}');
    const withCr = '{"a":\r1}';
    expect(toJsonText(tagRawJson(JSON.parse(withCr) as object, withCr))).toBe('{"a":1}');
  });
});
