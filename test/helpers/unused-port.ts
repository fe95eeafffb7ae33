import { createServer } from 'node:net';

/**
 * A port on 127.0.0.1 that nothing listens on at this moment (bound to 0, then released): a
 * server may take it (PORT=0 would not be reported back), a client is refused on it.
 */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
