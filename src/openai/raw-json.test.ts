import { describe, expect, it } from 'vitest';
import { tagRawJson, toJsonText } from './raw-json.js';

describe('raw JSON pass-through', () => {
  it('sends the upstream text of a tagged body, byte for byte, line breaks included', () => {
    const text = '{"id":"c",\n  "choices":[],"vendor":{"b":1,"a":2}}';
    const body = tagRawJson(JSON.parse(text) as object, text);
    expect(toJsonText(body)).toBe(text);
    expect(JSON.stringify(body)).toBe('{"id":"c","choices":[],"vendor":{"b":1,"a":2}}');
    expect(Object.keys(body)).toEqual(['id', 'choices', 'vendor']);
    expect({ ...body }).toEqual({ id: 'c', choices: [], vendor: { b: 1, a: 2 } });
  });

  it('serialises untagged bodies', () => {
    expect(toJsonText({ a: 1 })).toBe('{"a":1}');
  });
});
