import type { ComponentChildren } from 'preact';

/**
 * A message where data would be: loading, an error (with what to do next and a retry), or an
 * empty state (with what to do to fill it). Said politely to screen readers.
 */
export function Notice({
  kind,
  title,
  children,
  onRetry,
}: {
  kind: 'loading' | 'error' | 'empty';
  title: string;
  children?: ComponentChildren;
  onRetry?: () => void;
}) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <p class="notice-title">{title}</p>
      {children === undefined ? null : <div class="notice-body">{children}</div>}
      {onRetry === undefined ? null : (
        <button type="button" class="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
