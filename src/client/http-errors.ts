/**
 * Every failure of `HttpClient` becomes an `ApiError` carrying a Kubernetes `Status`. client-node 1.x hands errors
 * over in several shapes: `ApiException` with the body as a string, a Buffer, an object or undefined; the watch's
 * plain `Error` with only `statusCode` (it does not read the body); node-fetch `FetchError`s and `AbortError`s with
 * a system `code` (ECONNREFUSED, ECONNRESET, ...). This module normalises them all.
 */
import { isStatus } from '../apis/meta.js';
import type { Status, StatusReason } from '../apis/meta.js';
import { ApiError } from '../apiserver/types.js';
import { describeError } from '../util/errors.js';

const reasonByCode: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A failure `Status` for an HTTP code, when the server sent none we could read. */
export function statusForCode(code: number, message: string): Status {
  const reason = reasonByCode[code];
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(reason ? { reason } : {}),
    code,
  };
}

/** The `Status` of an error response: the body's own if it is one, else one made from the code and body text. */
export function statusFromResponse(code: number, body: unknown, what: string): Status {
  const parsed = parseBody(body);
  if (isStatus(parsed)) {
    return { ...parsed, metadata: parsed.metadata ?? {}, status: 'Failure', code: typeof parsed.code === 'number' && parsed.code > 0 ? parsed.code : code };
  }
  const text = typeof parsed === 'string' && parsed.trim() ? `: ${parsed.trim().slice(0, 300)}` : '';
  return statusForCode(code, `${what} failed with HTTP ${code}${text}`);
}

function parseBody(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Any thrown value from client-node or the network as an `ApiError`. */
export function toApiError(err: unknown, what: string): ApiError {
  if (err instanceof ApiError) return err;
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; name?: unknown; type?: unknown };
    // ApiException: numeric `code` (the HTTP status) and `body`.
    if (typeof e.code === 'number' && e.code >= 400) return new ApiError(statusFromResponse(e.code, e.body, what));
    // client-node's Watch: an Error with `statusCode` and the status text.
    if (typeof e.statusCode === 'number') return new ApiError(statusFromResponse(e.statusCode, undefined, what));
    if (e.name === 'AbortError' || e.name === 'TimeoutError') {
      return new ApiError(statusForCode(504, `${what} timed out or was aborted: ${describeError(err)}`));
    }
    // Connection-level failures (FetchError with a system code): the server could not be reached or went away.
    if (typeof e.code === 'string' || e.type === 'system' || e.name === 'FetchError') {
      return new ApiError(statusForCode(503, `${what}: cannot reach the API server${unreachableReason(err)}`));
    }
  }
  return new ApiError(statusForCode(500, `${what}: ${describeError(err)}`));
}

/** Connection-level errno codes in words, for one-line "cannot reach" messages. */
export const connectionErrorWords: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host name not found',
};

/**
 * ` at ORIGIN: connection refused (ECONNREFUSED)` for node-fetch's `request to URL failed, reason: connect
 * ECONNREFUSED HOST:PORT`, which repeats the path the caller already names; other failures keep their message.
 */
function unreachableReason(err: unknown): string {
  const message = describeError(err);
  const code = (err as { code?: unknown }).code;
  const m = /^request to (\S+) failed, reason: /.exec(message);
  const origin = m && URL.canParse(m[1]!) ? new URL(m[1]!).origin : '';
  const words = typeof code === 'string' ? connectionErrorWords[code] : undefined;
  if (origin && words) return ` at ${origin}: ${words} (${code as string})`;
  return `: ${message}`;
}
