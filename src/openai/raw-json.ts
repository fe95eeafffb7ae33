/**
 * A relay that passes an upstream chunk through unchanged may tag it with the exact JSON text it
 * arrived as, so the SSE writer sends that text instead of serialising the object again (the
 * measurable cost of relaying a stream). Symbol-keyed: JSON.stringify never sees it.
 */
export const RAW_JSON: unique symbol = Symbol('rawJson');

/** A chunk that may carry its upstream JSON text. */
export interface WithRawJson {
  [RAW_JSON]?: string;
}

/** Tags `value` with `json` when it is safe to send as one SSE `data:` line (no line breaks). */
export function tagRawJson<Value extends object>(value: Value, json: string): Value {
  if (json.indexOf('\n') === -1 && json.indexOf('\r') === -1) {
    // Non-enumerable: invisible to JSON.stringify, spreads and deep equality alike.
    Object.defineProperty(value, RAW_JSON, { value: json, enumerable: false });
  }
  return value;
}

/** The chunk's JSON text: the upstream's own when tagged, else serialised. */
export function toJsonText(value: object): string {
  return (value as WithRawJson)[RAW_JSON] ?? JSON.stringify(value);
}
