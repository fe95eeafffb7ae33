/**
 * Removes anything that looks like a credential from text we did not write (upstream error bodies,
 * error messages with URLs), so it can be logged or relayed. Vendors echo keys in their 401s.
 */

const SECRET_PATTERNS: readonly RegExp[] = [
  /\b(?:sk|csk|pk|rk|gsk|xai|key)[-_][A-Za-z0-9_-]{6,}/gi,
  /\bBearer\s+[^\s"',}]+/gi,
  // user:password@ in URLs
  /(?<=\/\/)[^/\s:@]+:[^/\s@]+@/g,
  // key-ish query parameters
  /(?<=[?&](?:api[-_]?key|key|token|access_token|auth)=)[^&\s"']+/gi,
];

const REDACTED = '[REDACTED]';

/** Replaces every known secret and every credential-shaped token; caps the length. */
export function scrubSecrets(
  text: string,
  knownSecrets: readonly string[] = [],
  maxLength = 500,
): string {
  let scrubbed = text;
  for (const secret of knownSecrets) {
    if (secret.length > 0) scrubbed = scrubbed.split(secret).join(REDACTED);
  }
  for (const pattern of SECRET_PATTERNS) scrubbed = scrubbed.replace(pattern, REDACTED);
  return scrubbed.length > maxLength ? `${scrubbed.slice(0, maxLength)}…` : scrubbed;
}
