/**
 * A raw HTTP/1.1 client over `node:net` for the security suites: the request line and headers go
 * out exactly as written (fetch normalises `..`, `//` and case, merges duplicate headers and
 * refuses CR/LF), and responses come back with every header as sent. Keep-alive connections are
 * reused so thousands of requests stay fast.
 */
import { connect, type Socket } from 'node:net';

/** A header as written or received; names of received headers are lower-cased. */
export type RawHeader = readonly [name: string, value: string];

/** A response as it came off the wire. */
export interface RawResponse {
  readonly status: number;
  readonly headers: readonly RawHeader[];
  /** The status line and headers as received. */
  readonly head: string;
  readonly body: string;
}

/** An HTTP/1.1 request exactly as written: the target and the headers are not normalised. */
export interface RawRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: readonly RawHeader[];
  /** Sent as JSON with a Content-Length. */
  readonly body?: string;
}

/** The first value of a response header. */
export function headerOf(response: RawResponse, name: string): string | undefined {
  return response.headers.find(([key]) => key === name)?.[1];
}

/** Every value of a response header. */
export function headersOf(response: RawResponse, name: string): string[] {
  return response.headers.filter(([key]) => key === name).map(([, value]) => value);
}

/** The request's bytes; `Host` first, `Content-Type`/`Content-Length` added for a body. */
export function serializeRequest(request: RawRequest): string {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, 'Host: gateway.test'];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  if (request.body !== undefined) {
    lines.push('Content-Type: application/json');
    lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${request.body ?? ''}`;
}

interface Parsed {
  readonly response: RawResponse;
  readonly consumed: number;
}

/** Parses one response off the front of `buffer`; undefined until it is complete. */
function parseResponse(buffer: Buffer, headRequest: boolean, closed: boolean): Parsed | undefined {
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const head = buffer.subarray(0, headEnd).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers = lines.map((line): RawHeader => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
  const done = (body: Buffer, consumed: number): Parsed => ({
    response: { status, headers, head, body: body.toString('utf8') },
    consumed,
  });
  const start = headEnd + 4;
  if (headRequest || status === 204 || status === 304) return done(Buffer.alloc(0), start);
  const length = headers.find(([key]) => key === 'content-length')?.[1];
  if (length !== undefined) {
    const end = start + Number(length);
    return buffer.length < end ? undefined : done(buffer.subarray(start, end), end);
  }
  if (headers.some(([key, value]) => key === 'transfer-encoding' && /chunked/i.test(value))) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', at);
      if (lineEnd === -1) return undefined;
      const size = Number.parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
      if (buffer.length < lineEnd + 2 + size + 2) return undefined;
      if (size === 0) return done(Buffer.concat(parts), lineEnd + 4);
      parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  return closed ? done(buffer.subarray(start), buffer.length) : undefined;
}

/** One keep-alive connection: sends a request, resolves with its whole response. */
export class RawConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    // A reset by the server shows as a closed connection, not as an uncaught error.
    socket.on('error', () => undefined);
    socket.setTimeout(3_000, () => socket.destroy());
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** False once the server closed the connection. */
  get usable(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  async exchange(bytes: string | Buffer, headRequest = false): Promise<RawResponse> {
    this.socket.write(bytes);
    for (;;) {
      const parsed = parseResponse(this.buffer, headRequest, this.closed);
      if (parsed !== undefined) {
        this.buffer = this.buffer.subarray(parsed.consumed);
        return parsed.response;
      }
      if (this.closed) throw new Error(`connection closed mid-response: ${String(this.buffer)}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends every request over `concurrency` keep-alive connections; responses in request order. */
export async function exchangeAll(
  port: number,
  requests: readonly RawRequest[],
  concurrency = 12,
): Promise<RawResponse[]> {
  const responses: RawResponse[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    let connection = await RawConnection.open(port);
    try {
      for (let index = next++; index < requests.length; index = next++) {
        const request = requests[index];
        if (request === undefined) break;
        if (!connection.usable) connection = await RawConnection.open(port);
        const bytes = serializeRequest(request);
        const response = await connection.exchange(bytes, request.method === 'HEAD');
        responses[index] = response;
        if (headerOf(response, 'connection') === 'close') connection.close();
      }
    } finally {
      connection.close();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return responses;
}

/** Raw bytes on a fresh connection (CR/LF and duplicate headers as written); one response. */
export async function exchangeOnce(port: number, bytes: string | Buffer): Promise<RawResponse> {
  const connection = await RawConnection.open(port);
  try {
    return await connection.exchange(bytes);
  } finally {
    connection.close();
  }
}

/** A plain TCP connection to `url`'s host and port, for writing a request by hand. */
export function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server writes until it closes the socket (≤ 5 s), and when it closed. */
export function untilClosed(socket: Socket): Promise<{ text: string; closedAt: number }> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      text += data;
    });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve({ text, closedAt: performance.now() }));
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}
