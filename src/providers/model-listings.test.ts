import { describe, expect, it } from 'vitest';
import { createFakeProvider } from '../../test/helpers/fake-provider.js';
import { UpstreamError } from '../errors/gateway-error.js';
import { createModelListings } from './model-listings.js';

const warnings: object[] = [];
const logger = {
  debug() {},
  info() {},
  warn(object: object) {
    warnings.push(object);
  },
  error() {},
};

function setup(listModels?: () => Promise<never>) {
  let time = 0;
  const provider = createFakeProvider('p', listModels === undefined ? {} : { listModels });
  const listings = createModelListings({ now: () => time, logger });
  return {
    provider,
    listings,
    advance(ms: number) {
      time += ms;
    },
    fetches: () => provider.calls.filter((call) => call.method === 'listModels').length,
  };
}

describe('createModelListings', () => {
  it('reuses a listing younger than maxAgeMs, fetches anew once it is that old', async () => {
    const { provider, listings, advance, fetches } = setup();
    const options = { maxAgeMs: 100, timeoutMs: 50 };
    expect(await listings.get(provider, options)).toEqual({
      models: [{ id: 'p-model', object: 'model', created: 1, owned_by: 'p' }],
    });
    advance(99);
    await listings.get(provider, options);
    expect(fetches()).toBe(1);
    advance(1);
    await listings.get(provider, options);
    expect(fetches()).toBe(2);
  });

  it('lets concurrent callers share one fetch, each with its own freshness', async () => {
    const { provider, listings, advance, fetches } = setup();
    const [first, second] = await Promise.all([
      listings.get(provider, { maxAgeMs: 10, timeoutMs: 50 }),
      listings.get(provider, { maxAgeMs: 10, timeoutMs: 50 }),
    ]);
    expect(second).toBe(first);
    advance(20);
    await listings.get(provider, { maxAgeMs: 30, timeoutMs: 50 });
    expect(fetches()).toBe(1);
    await listings.get(provider, { maxAgeMs: 10, timeoutMs: 50 });
    expect(fetches()).toBe(2);
  });

  it('turns a failure into a listing with the error, logs its code, and reuses it too', async () => {
    const down = new UpstreamError('down');
    const { provider, listings, fetches } = setup(async () => {
      throw down;
    });
    warnings.length = 0;
    const options = { maxAgeMs: 100, timeoutMs: 50 };
    expect(await listings.get(provider, options)).toEqual({ error: down });
    expect(await listings.get(provider, options)).toEqual({ error: down });
    expect(fetches()).toBe(1);
    expect(warnings).toEqual([{ provider: 'p', code: 'upstream_error' }]);
  });

  it('hands the provider a signal that times out after timeoutMs', async () => {
    const { provider, listings } = setup();
    await listings.get(provider, { maxAgeMs: 0, timeoutMs: 20 });
    const signal = provider.calls[0]?.ctx.signal;
    expect(signal?.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(signal?.aborted).toBe(true);
  });
});
