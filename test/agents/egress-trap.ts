/**
 * A proxy on 127.0.0.1 that refuses everything and records who tried: the agents run with every
 * proxy variable pointing here (and `NO_PROXY` for loopback), so a request to anywhere but
 * 127.0.0.1 — telemetry, an update check, a model list, an auth server — shows up as an attempt
 * (`CONNECT api.anthropic.com:443 HTTP/1.1`) instead of silently failing on a machine
 * without a network.
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';

/** A running trap. */
export interface EgressTrap {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** The first line each connection sent (the request line), in order. */
  readonly attempts: readonly string[];
  /** The proxy variables, both cases, pointing here; loopback excepted. */
  proxyEnv(): Record<string, string>;
  close(): Promise<void>;
}

/** Starts the trap on a free port of 127.0.0.1. */
export async function startEgressTrap(): Promise<EgressTrap> {
  const attempts: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      attempts.push(head.split('\r\n')[0] || '(a connection that sent nothing)');
      socket.destroy();
    };
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      head += text;
      if (head.includes('\r\n') || head.length > 2048) record();
    });
    socket.on('end', record);
    socket.setTimeout(2_000, record);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('egress trap: no port');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    get attempts() {
      return attempts;
    },
    proxyEnv() {
      const env: Record<string, string> = {};
      for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) {
        env[name] = url;
        env[name.toLowerCase()] = url;
      }
      env.NO_PROXY = '127.0.0.1,localhost';
      env.no_proxy = env.NO_PROXY;
      return env;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
