import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_CODES, type ErrorCodeEntry } from '../errors/error-codes.js';
import type { GatewayMetrics } from './gateway-metrics.js';

/** What the server exposes: a gateway's metrics, or later a cluster-wide aggregate. */
export type MetricsSource = Pick<GatewayMetrics, 'render' | 'contentType'>;

/** Options of {@link createMetricsServer}. */
export interface MetricsServerOptions {
  /** Keep this a loopback address: the endpoint has no auth and names models and traffic. */
  readonly host: string;
  /** 0 picks a free port (tests); {@link MetricsServer.listen} reports the one bound. */
  readonly port: number;
  /** Told when rendering failed (the scrape then gets a 500); for the log. */
  readonly onError?: (error: unknown) => void;
}

/** A scrape endpoint on its own listener, off the public port. */
export interface MetricsServer {
  /** Binds the port; rejects on a bind error (EADDRINUSE, EACCES). */
  listen(): Promise<{ port: number }>;
  /** Stops accepting and destroys every connection, keep-alive ones included. */
  close(): Promise<void>;
}

const METRICS_PATH = '/metrics';
const ALLOWED_METHODS = 'GET, HEAD';

/**
 * A tiny `node:http` server: `GET /metrics` (and `HEAD`) answers with the metrics text, another
 * method on that path is a 405, any other path a 404, both with an OpenAI-style JSON error body.
 */
export function createMetricsServer(
  metrics: MetricsSource,
  options: MetricsServerOptions,
): MetricsServer {
  const server = createServer((request, response) => {
    void answer(metrics, options, request, response);
  });
  // A scraper that stalls should not hold a socket for long.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;

  return {
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once('error', onError);
        server.listen(options.port, options.host, () => {
          server.off('error', onError);
          resolve({ port: (server.address() as AddressInfo).port });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        // Resolves on success and on "not running" alike: closing twice is harmless.
        server.close(() => resolve());
        // close() ends idle keep-alive sockets but waits for busy ones (a request still arriving,
        // a render in progress); a scrape is cheap to retry, so cut them all now.
        server.closeAllConnections();
      });
    },
  };
}

async function answer(
  metrics: MetricsSource,
  options: MetricsServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path !== METRICS_PATH) {
    sendError(response, ERROR_CODES.ROUTE_NOT_FOUND, 'Unknown route.');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', ALLOWED_METHODS);
    sendError(response, ERROR_CODES.METHOD_NOT_ALLOWED, `Use ${ALLOWED_METHODS}.`);
    return;
  }
  let text: string;
  try {
    text = await metrics.render();
  } catch (error) {
    options.onError?.(error);
    sendError(response, ERROR_CODES.INTERNAL_ERROR, 'The metrics could not be rendered.');
    return;
  }
  send(response, 200, metrics.contentType, text);
}

function sendError(response: ServerResponse, entry: ErrorCodeEntry, message: string): void {
  const { status, type, code } = entry;
  const body = JSON.stringify({ error: { message, type, param: null, code } });
  send(response, status, 'application/json; charset=utf-8', body);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  if (response.destroyed) return;
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  // For HEAD, node:http sends the headers and drops the body.
  response.end(body);
}
