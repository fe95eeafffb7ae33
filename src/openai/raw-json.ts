/**
 * A relay that passes an upstream body through unchanged may tag it with the exact JSON text it
 * arrived as, so the route sends that text instead of serialising the object again (vendor extras
 * and key order kept as they came). Symbol-keyed and non-enumerable: JSON.stringify, spreads and
 * deep equality never see it. Stream chunks carry their text beside them instead
 * (`StreamChunk.json`): defining a property once per chunk was a measurable share of a stream.
 */
const RAW_JSON: unique symbol = Symbol('rawJson');

/** A body that may carry its upstream JSON text. */
export interface WithRawJson {
  [RAW_JSON]?: string;
}

/** Tags `value` with `json`, the text it was parsed from. */
export function tagRawJson<Value extends object>(value: Value, json: string): Value {
  Object.defineProperty(value, RAW_JSON, { value: json, enumerable: false });
  return value;
}

/** The body's JSON text: the upstream's own when tagged, else serialised. */
export function toJsonText(value: object): string {
  return (value as WithRawJson)[RAW_JSON] ?? JSON.stringify(value);
}
