/**
 * Cuts `whole` at the given points (taken modulo its length + 1, deduplicated, in order), so a
 * property test's arbitrary numbers become any split of a text or byte stream, empty parts
 * included.
 */
export function splitAt<T extends string | Uint8Array>(whole: T, points: readonly number[]): T[] {
  const cuts = [...new Set(points.map((point) => point % (whole.length + 1)))].sort(
    (a, b) => a - b,
  );
  const parts: T[] = [];
  let start = 0;
  for (const cut of [...cuts, whole.length]) {
    parts.push(whole.slice(start, cut) as T);
    start = cut;
  }
  return parts;
}
