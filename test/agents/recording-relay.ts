/**
 * An HTTP relay on 127.0.0.1 between an agent and the gateway that keeps every request as the
 * agent sent it (path, headers, body), so a test can check the agent's own wire shapes (Claude
 * Code's `?beta=true`, its key header, its tools) besides the chat request the fake upstream
 * got. Responses, streams included, pass through untouched.
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

/** A request the agent made. */
export interface AgentRequest {
  readonly method: string;
  /** Path and query string. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body's bytes as received (Codex may compress them: see `content-encoding`). */
  readonly body: Buffer;
}

/** A running relay. */
export interface RecordingRelay {
  /** `http://127.0.0.1:PORT`: the base URL to give the agent instead of the gateway's. */
  readonly url: string;
  readonly requests: readonly AgentRequest[];
  close(): Promise<void>;
}

/** Starts a relay to `target` (`http://127.0.0.1:PORT`). */
export async function startRecordingRelay(target: string): Promise<RecordingRelay> {
  const requests: AgentRequest[] = [];
  const sockets = new Set<Socket>();
  const { hostname, port } = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = incoming.method ?? 'GET';
      const path = incoming.url ?? '/';
      requests.push({ method, path, headers: { ...incoming.headers }, body });
      const forward = httpRequest(
        { host: hostname, port, method, path, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
          answer.pipe(outgoing);
        },
      );
      forward.on('error', () => outgoing.destroy());
      outgoing.on('close', () => forward.destroy());
      forward.end(body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay: no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get requests() {
      return requests;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
