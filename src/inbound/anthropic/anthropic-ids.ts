import { randomUUID } from 'node:crypto';

/**
 * A fresh id in Anthropic's style, `msg_…` for a message and `toolu_…` for a tool call the
 * upstream gave no id (32 hex digits after the prefix; clients read ids as opaque strings).
 * `randomUUID` draws from a cached entropy pool, so it is cheap per call.
 */
export function newAnthropicId(prefix: 'msg' | 'toolu'): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}
