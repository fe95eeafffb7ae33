import type { ModelPrice } from '../config/gateway-config.js';

/** USD per million tokens → nano-dollars per token. */
const NANO_PER_TOKEN_PER_USD_PER_MILLION = 1_000;

/** The config's prices, asked by deployment; costs in integer nano-dollars. */
export interface PriceTable {
  /**
   * The price of a deployment (`provider/model`): its own entry, else the served model's name
   * (the part after the first `/`), else undefined (the model costs 0).
   */
  priceOf(deployment: string): ModelPrice | undefined;
  /** The most any of these deployments could charge per token, input and output apart. */
  worstCase(deployments: readonly string[]): ModelPrice | undefined;
}

export function createPriceTable(prices: ReadonlyMap<string, ModelPrice>): PriceTable {
  const priceOf = (deployment: string): ModelPrice | undefined => {
    const exact = prices.get(deployment);
    if (exact !== undefined) return exact;
    const slash = deployment.indexOf('/');
    return slash < 0 ? undefined : prices.get(deployment.slice(slash + 1));
  };
  return {
    priceOf,
    worstCase(deployments) {
      let worst: ModelPrice | undefined;
      for (const deployment of deployments) {
        const price = priceOf(deployment);
        if (price === undefined) continue;
        worst =
          worst === undefined
            ? price
            : {
                inputPerMillion: Math.max(worst.inputPerMillion, price.inputPerMillion),
                outputPerMillion: Math.max(worst.outputPerMillion, price.outputPerMillion),
              };
      }
      return worst;
    },
  };
}

/** What tokens cost at `price`, in nano-dollars (0 without a price). */
export function costNano(
  price: ModelPrice | undefined,
  inputTokens: number,
  outputTokens: number,
): number {
  if (price === undefined) return 0;
  return Math.round(
    (inputTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) *
      NANO_PER_TOKEN_PER_USD_PER_MILLION,
  );
}
