import { useCallback, useEffect, useState } from 'preact/hooks';

/** What a page loaded: the data, or why not yet. */
export interface Loaded<Data> {
  readonly data: Data | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  /** Loads again (after a change, or from a "Try again" button). */
  readonly reload: () => void;
}

/**
 * Runs `load` now and whenever `inputs` change; an answer that arrives after a newer call
 * started is dropped, so a slow response never overwrites a fresher one.
 */
export function useLoader<Data>(
  load: () => Promise<Data>,
  inputs: readonly unknown[],
): Loaded<Data> {
  const [state, setState] = useState<{ data?: Data; error?: Error; loading: boolean }>({
    loading: true,
  });
  const [round, setRound] = useState(0);
  // `inputs` are the caller's dependencies of `load`.
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) =>
        current &&
        setState((previous) => ({
          ...previous,
          error: error instanceof Error ? error : new Error(String(error)),
          loading: false,
        })),
    );
    return () => {
      current = false;
    };
  }, [...inputs, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
