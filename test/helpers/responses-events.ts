/**
 * Reading a Responses API event stream as text (`event: <type>` + `data: {…}` blocks) and the
 * invariants every such stream must keep, shared by the unit, http and e2e suites.
 */
import { expect } from 'vitest';

/** One event: its `event:` line and its parsed `data`. */
export interface ResponsesEvent {
  readonly event: string | undefined;
  readonly data: Record<string, unknown> & { type: string; sequence_number: number };
}

/** Parses a whole SSE body (blank-line separated blocks, `\r\n` tolerated). */
export function parseResponsesEvents(body: string): ResponsesEvent[] {
  return body
    .replace(/\r\n/g, '\n')
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      return { event, data: JSON.parse(data.join('\n')) as ResponsesEvent['data'] };
    });
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Checks the framing every Responses stream keeps, and returns its terminal event's response:
 * `event:` equal to `type`; sequence numbers 0, 1, 2, …; `response.created` then
 * `response.in_progress` first; exactly one terminal event, last, with created's id; every item
 * added once and (unless the response failed) done once, the done items being the terminal
 * response's output in order.
 */
export function expectWellFormed(events: readonly ResponsesEvent[]): Record<string, unknown> {
  expect(events.map((event) => event.event)).toEqual(events.map((event) => event.data.type));
  expect(events.map((event) => event.data.sequence_number)).toEqual(
    events.map((_, index) => index),
  );
  expect(events.slice(0, 2).map((event) => event.data.type)).toEqual([
    'response.created',
    'response.in_progress',
  ]);
  const terminals = events.filter((event) => TERMINAL.has(event.data.type));
  expect(terminals).toHaveLength(1);
  const terminal = events.at(-1);
  expect(terminal).toBe(terminals[0]);
  const response = terminal?.data.response as Record<string, unknown>;
  const created = events[0]?.data.response as Record<string, unknown>;
  expect(response.id).toBe(created.id);
  expect(response.id).toMatch(/^resp_/);
  const added = events.filter((event) => event.data.type === 'response.output_item.added');
  const done = events.filter((event) => event.data.type === 'response.output_item.done');
  expect(added.map((event) => event.data.output_index)).toEqual(added.map((_, index) => index));
  if (terminal?.data.type !== 'response.failed') {
    expect(done.map((event) => event.data.output_index as number).sort((a, b) => a - b)).toEqual(
      added.map((_, index) => index),
    );
    const byIndex = [...done].sort(
      (a, b) => (a.data.output_index as number) - (b.data.output_index as number),
    );
    expect(response.output).toEqual(byIndex.map((event) => event.data.item));
  }
  return response;
}
