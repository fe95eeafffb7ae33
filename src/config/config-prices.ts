import {
  checkModelName,
  childPath,
  type ProblemList,
  readMapping,
  readSection,
} from './config-readers.js';
import type { ModelPrice } from './gateway-config.js';

const PRICE_KEYS = ['input_per_mtok', 'output_per_mtok'];

/**
 * The `prices:` section: model name (a served model's name or `provider/model`) → USD per million
 * input and output tokens. Both fields are required, finite and ≥ 0.
 */
export function readPrices(problems: ProblemList, value: unknown): ReadonlyMap<string, ModelPrice> {
  const prices = new Map<string, ModelPrice>();
  if (value === undefined) return prices;
  const entries = readMapping(problems, value, 'prices');
  for (const [name, entry] of entries ?? []) {
    const path = childPath('prices', name);
    if (!checkModelName(problems, name, path)) continue;
    const fields = readSection(problems, entry ?? new Map(), path, PRICE_KEYS);
    const price = (key: string): number | undefined => {
      const field = fields.get(key);
      if (typeof field === 'number' && Number.isFinite(field) && field >= 0) return field;
      problems.add(
        childPath(path, key),
        field === undefined ? 'is required' : 'must be a number ≥ 0 (USD per million tokens)',
      );
      return undefined;
    };
    const input = price('input_per_mtok');
    const output = price('output_per_mtok');
    if (input !== undefined && output !== undefined) {
      prices.set(name, { inputPerMillion: input, outputPerMillion: output });
    }
  }
  return prices;
}
