import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../errors/error-codes.js';
import { InvalidRequestError } from '../errors/gateway-error.js';

/** Deeper bodies are refused: serialising them again (to the upstream) would overflow the stack. */
const MAX_JSON_DEPTH = 100;

const OPEN_BRACE = 123; // {
const OPEN_BRACKET = 91; // [
const CLOSE_BRACE = 125; // }
const CLOSE_BRACKET = 93; // ]
const QUOTE = 34; // "
const BACKSLASH = 92; // \

/** Nesting depth of a JSON text, counting only brackets outside strings; stops past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * Replaces Fastify's JSON parser with one that first bounds the nesting depth (one cheap pass),
 * then parses with Fastify's own parser, set to remove prototype keys rather than refuse the
 * body: `__proto__` anywhere, and `constructor` where its value holds a `prototype` key (the
 * `constructor.prototype` path). Such a body is valid JSON, so it is served without those keys,
 * never answered "not valid JSON"; nothing downstream can then set a prototype from client input.
 * A property that is merely named `constructor` or `prototype` (in a tool's JSON schema) stays.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      // Fastify does not decompress: the bytes would only fail to parse, as if not JSON.
      done(
        new InvalidRequestError(
          'Compressed request bodies (Content-Encoding) are not accepted; send the JSON uncompressed.',
          ERROR_CODES.UNSUPPORTED_CONTENT_ENCODING.code,
        ),
        undefined,
      );
      return;
    }
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(
        new InvalidRequestError(
          `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`,
          ERROR_CODES.JSON_TOO_DEEP.code,
        ),
        undefined,
      );
      return;
    }
    parse(request, text, done);
  });
}
