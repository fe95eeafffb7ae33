import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCodeWith } from '../../errors/error-codes.js';
import { InvalidRequestError } from '../../errors/gateway-error.js';

/** C0 control characters (U+0000–U+001F) and DEL (U+007F): never part of a model or provider name. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Body fields of Ollama's native API that name a model besides `model` (`/api/copy`, `/api/create`, legacy `name`). */
const NATIVE_NAME_FIELDS = ['name', 'source', 'destination', 'from'] as const;

export interface NameGuardOptions {
  /** Route patterns of native APIs (`/ollama/api/*`), whose bodies name models in more fields. */
  readonly nativeRoutes: ReadonlySet<string>;
}

/**
 * preValidation hook (the body is parsed, the schema not yet applied): a model or provider name
 * holding a control character is refused with a 400 before any upstream is called, wherever the
 * client can put one: the body's `model` on every route, the model fields and the path of a native
 * API request, and the provider segment of `/{provider}/v1/...`. Such a name is never a real one,
 * and CR/LF or NUL could split or cut a header, a log line or an upstream's file name. It costs
 * one short regular-expression test of `model` per request; nothing else in the body is looked at.
 */
export function nameGuard(options: NameGuardOptions) {
  return function nameGuardHook(
    request: FastifyRequest,
    _reply: FastifyReply,
    done: (error?: Error) => void,
  ): void {
    const { provider } = request.params as { provider?: unknown };
    if (typeof provider === 'string' && CONTROL_CHARACTER.test(provider)) {
      done(
        controlCharacterError('The provider name in the URL', provider, 'a provider name', 'model'),
      );
      return;
    }
    const body = request.body as Readonly<Record<string, unknown>> | null | undefined;
    const model = typeof body === 'object' && body !== null ? body.model : undefined;
    if (typeof model === 'string' && CONTROL_CHARACTER.test(model)) {
      done(controlCharacterError("'model'", model, 'a model name', 'model'));
      return;
    }
    done(options.nativeRoutes.has(request.gateway.route) ? nativeProblem(request) : undefined);
  };
}

/** The native API's other model fields, and its path (a blob's digest), which is relayed too. */
function nativeProblem(request: FastifyRequest): InvalidRequestError | undefined {
  const { '*': path } = request.params as { '*'?: unknown };
  if (typeof path === 'string' && CONTROL_CHARACTER.test(path)) {
    return controlCharacterError(
      'The request path',
      path,
      'a path',
      null,
      ERROR_CODES.INVALID_URL.code,
    );
  }
  const body = request.body as Readonly<Record<string, unknown>> | null | undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  for (const field of NATIVE_NAME_FIELDS) {
    const value = body[field];
    if (typeof value === 'string' && CONTROL_CHARACTER.test(value)) {
      return controlCharacterError(`'${field}'`, value, 'a model name', field);
    }
  }
  return undefined;
}

/** The 400, naming the character and where it is, without repeating the name itself. */
function controlCharacterError(
  what: string,
  name: string,
  kind: string,
  param: string | null,
  code: ErrorCodeWith<400, 'invalid_request_error'> = ERROR_CODES.INVALID_MODEL_NAME.code,
): InvalidRequestError {
  const index = name.search(CONTROL_CHARACTER);
  const character = name.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0');
  return new InvalidRequestError(
    `${what} contains the control character U+${character} at position ${index}; ${kind} cannot contain control characters (U+0000–U+001F, U+007F).`,
    code,
    param,
  );
}
