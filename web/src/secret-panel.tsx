import { useEffect, useRef, useState } from 'preact/hooks';
import type { CreatedKeyJson } from './api.js';

/**
 * A new key's secret, shown this once: the gateway keeps only its hash. A copy button, a warning
 * that says so, and a button to put it away (after which it is gone from the page).
 */
export function SecretPanel({ created, onDone }: { created: CreatedKeyJson; onDone: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'no' | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('yes');
    } catch {
      // No clipboard (an http page other than localhost): the field is selected for Ctrl+C.
      const field = document.getElementById('new-key-secret') as HTMLInputElement | null;
      field?.select();
      setCopied('no');
    }
  };

  return (
    <section class="card secret" aria-labelledby="secret-title">
      <h2 id="secret-title" ref={heading} tabIndex={-1}>
        Key “{created.name}” created
      </h2>
      <p class="warning" role="note">
        <strong>Copy this key now.</strong> It is shown only once: the gateway stores only its hash
        and cannot show it again. If it is lost, revoke the key and create a new one.
      </p>
      <div class="secret-row">
        <label for="new-key-secret" class="visually-hidden">
          The new key's secret
        </label>
        <input
          id="new-key-secret"
          class="mono"
          readOnly
          value={created.key}
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" class="button button-primary" onClick={copy}>
          Copy
        </button>
      </div>
      <p class="hint" role="status">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'no'
            ? 'Selected: press Ctrl+C (⌘C) to copy.'
            : ''}
      </p>
      <button type="button" class="button" onClick={onDone}>
        I have saved it
      </button>
    </section>
  );
}
