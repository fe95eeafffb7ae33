import type { GatewayError } from '../errors/gateway-error.js';

/** The longest model name quoted in a summary: it can be the client's own text. */
const MAX_MODEL_CHARS = 128;

/** The failed attempts of one request, to name them in the error the client finally gets. */
export interface AttemptLog {
  /** Notes one failed attempt on `deployment` (`provider/model`) and the error code it ended with. */
  record(deployment: string, code: string): void;
  /**
   * `Tried: a/x (upstream_unreachable ×2), b/y (upstream_rate_limited).`: each deployment in the
   * order it was first tried, its outcomes in the order they first came, counted. Empty when
   * fewer than two attempts failed: a single failure's message already names its provider, and
   * a one-item list would only repeat it.
   */
  summary(): string;
  /** Every failed attempt as `a/x (upstream_unreachable ×2), b/y (…)`; '' when none failed. */
  failures(): string;
  /**
   * Appends {@link summary} to `error`'s message and returns it. Status, type, code, retry-after
   * and cause stay the error's own, so the client and the log see the last failure as it was.
   */
  annotate(error: GatewayError): GatewayError;
}

/** Starts an empty log for one request. */
export function createAttemptLog(): AttemptLog {
  const byDeployment = new Map<string, Map<string, number>>();
  let failures = 0;

  const listed = (): string =>
    [...byDeployment]
      .map(([deployment, outcomes]) => {
        const codes = [...outcomes].map(([code, count]) =>
          count > 1 ? `${code} ×${count}` : code,
        );
        return `${shorten(deployment)} (${codes.join(', ')})`;
      })
      .join(', ');
  const summary = (): string => (failures < 2 ? '' : `Tried: ${listed()}.`);

  return {
    record(deployment, code) {
      failures += 1;
      let outcomes = byDeployment.get(deployment);
      if (outcomes === undefined) {
        outcomes = new Map();
        byDeployment.set(deployment, outcomes);
      }
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
    },
    summary,
    failures: listed,
    annotate(error) {
      error.tried = listed();
      const text = summary();
      // The error is the last attempt's own, made for this request alone: amending its message
      // keeps its class and cause, which a copy would lose.
      if (text !== '') error.message = `${error.message} ${text}`;
      return error;
    },
  };
}

/** `provider/model` with the model cut to {@link MAX_MODEL_CHARS} (the provider is config). */
function shorten(deployment: string): string {
  const slash = deployment.indexOf('/');
  const model = deployment.slice(slash + 1);
  if (model.length <= MAX_MODEL_CHARS) return deployment;
  return `${deployment.slice(0, slash + 1)}${model.slice(0, MAX_MODEL_CHARS)}…`;
}
