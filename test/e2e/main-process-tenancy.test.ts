/**
 * Tenancy as an operator runs it: the real entry point with `WORKERS=2`, one SQLite file and one
 * Redis, keys made through the admin API. Both workers hold one limit exactly, a revocation made
 * through one reaches the other, SIGTERM writes every ledger row and hands every limit lease back
 * to Redis, and without Redis several workers refuse to start.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { openTenancyStore } from '../../src/store/tenancy-store.js';
import {
  START_TIMEOUT_MS,
  spawnGateway,
  useProcessFixture,
  within,
  workersListening,
} from '../helpers/gateway-process.js';
import { redisUrlOrSkip } from '../helpers/real-services.js';
import { unusedPort } from '../helpers/unused-port.js';

const ADMIN_KEY = 'main-admin-key-0123456789abcdef0123456789';
const redisUrl = redisUrlOrSkip();

describe('main process with tenancy', () => {
  const fixture = useProcessFixture('ai-gateway-tenancy-');
  const env = (port: number, database: string) => ({
    OLLAMA_HOST: fixture.upstream.url,
    LOG_LEVEL: 'info',
    PORT: String(port),
    ADMIN_API_KEY: ADMIN_KEY,
    DATABASE_URL: `sqlite:${join(fixture.cwd, database)}`,
  });

  it('refuses several workers without Redis, naming the variable', async () => {
    const gateway = spawnGateway(
      { ...env(await unusedPort(), 'refused.db'), WORKERS: '2' },
      fixture.cwd,
    );
    expect(await within(gateway.exited, START_TIMEOUT_MS, 'exit')).toBe(1);
    expect(gateway.stderr()).toContain('WORKERS > 1 with virtual keys needs REDIS_URL');
  });

  it.skipIf(redisUrl === null)(
    'holds one limit over two workers, revokes on both, and writes every ledger row on SIGTERM',
    async () => {
      const port = await unusedPort();
      const gateway = spawnGateway(
        { ...env(port, 'workers.db'), WORKERS: '2', REDIS_URL: redisUrl ?? '' },
        fixture.cwd,
      );
      await workersListening(gateway, 2);
      const url = `http://127.0.0.1:${port}`;
      const created = await fetch(`${url}/admin/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'two workers', rpm_limit: 10 }),
      });
      expect(created.status).toBe(201);
      const { id, key } = (await created.json()) as { id: string; key: string };
      // A fresh connection each time, so either worker may take it.
      const call = () =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            connection: 'close',
          },
          body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
        }).then(async (response) => {
          await response.text();
          return response.status;
        });
      const statuses = await Promise.all(Array.from({ length: 50 }, call));
      expect(statuses.filter((status) => status === 200)).toHaveLength(10);
      expect(statuses.filter((status) => status === 429)).toHaveLength(40);
      const served = gateway
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"msg":"request completed"') && line.includes(id))
        .map((line) => (JSON.parse(line) as { pid: number }).pid);
      expect(new Set(served).size).toBe(2);

      const revoked = await fetch(`${url}/admin/v1/keys/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(revoked.status).toBe(204);
      // The worker that did not take the DELETE hears of it by polling: within 2 s on both.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const after = await Promise.all(Array.from({ length: 10 }, call));
      expect(after.every((status) => status === 401)).toBe(true);

      gateway.child.kill('SIGTERM');
      expect(await within(gateway.exited, 15_000, 'exit after SIGTERM')).toBe(0);
      const store = await openTenancyStore(`sqlite:${join(fixture.cwd, 'workers.db')}`);
      try {
        const page = await store.requests({ keyId: id, limit: 1_000 });
        expect(page.rows).toHaveLength(60);
      } finally {
        await store.close();
      }
    },
    40_000,
  );

  it.skipIf(redisUrl === null)(
    'serves a busy key from leases on two workers, and hands every lease back on SIGTERM',
    async () => {
      const port = await unusedPort();
      const gateway = spawnGateway(
        { ...env(port, 'leases.db'), WORKERS: '2', REDIS_URL: redisUrl ?? '' },
        fixture.cwd,
      );
      await workersListening(gateway, 2);
      const url = `http://127.0.0.1:${port}`;
      const created = await fetch(`${url}/admin/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        // Far from every limit: both workers lease.
        body: JSON.stringify({
          name: 'leases',
          rpm_limit: 100_000,
          budget_tokens: 100_000_000,
          budget_period: 'total',
        }),
      });
      expect(created.status).toBe(201);
      const { id, key } = (await created.json()) as { id: string; key: string };
      const call = () =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            connection: 'close',
          },
          body: JSON.stringify({
            model: 'llama3.2',
            max_tokens: 50,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        }).then(async (response) => {
          await response.text();
          return response.status;
        });
      for (let wave = 0; wave < 10; wave++) {
        const statuses = await Promise.all(Array.from({ length: 10 }, call));
        expect(statuses.every((status) => status === 200)).toBe(true);
      }
      gateway.child.kill('SIGTERM');
      expect(await within(gateway.exited, 15_000, 'exit after SIGTERM')).toBe(0);

      const store = await openTenancyStore(`sqlite:${join(fixture.cwd, 'leases.db')}`);
      const redis = new Redis(redisUrl ?? '');
      try {
        const { rows } = await store.requests({ keyId: id, limit: 1_000 });
        expect(rows).toHaveLength(100);
        const tokens = rows.reduce((sum, row) => sum + row.inputTokens + row.outputTokens, 0);
        expect(tokens).toBeGreaterThan(0);
        // Nothing held any more, and every token the ledger billed is spent in Redis: no lease or
        // reservation was lost between the workers and Redis.
        const budgetKey = `aigw:limits:k:${id}:tokens:total`;
        expect(await redis.hgetall(budgetKey)).toEqual({
          spent: String(tokens),
          reserved: '0',
        });
        await redis.del(budgetKey, `aigw:limits:k:${id}:rpm`);
      } finally {
        redis.disconnect();
        await store.close();
      }
    },
    40_000,
  );
});
