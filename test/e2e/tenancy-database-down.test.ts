/**
 * PostgreSQL, then Redis, goes away under a running gateway and comes back (a TCP relay in front
 * of the real server is cut): keys already known keep working and their ledger rows wait, a key never seen
 * gets 503 (never 401), nothing crashes, and everything catches up once the database is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTenancyStore, type TenancyStore } from '../../src/store/tenancy-store.js';
import { generateKeySecret, hashKeySecret, keyPrefixOf } from '../../src/tenancy/key-secret.js';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import {
  createTemporaryDatabase,
  postgresUrlOrSkip,
  redisUrlOrSkip,
} from '../helpers/real-services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import {
  createTestKey,
  eventually,
  STATIC_KEY,
  startTenantGateway,
  type TenantGateway,
} from '../helpers/tenancy-harness.js';

const postgresUrl = postgresUrlOrSkip();
const ask = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'hi' }] };

describe.skipIf(postgresUrl === null)('tenancy when PostgreSQL is down and back', () => {
  let upstream: FakeUpstream;
  let proxy: TcpProxy;
  let gateway: TenantGateway;
  let direct: TenancyStore;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const database = await createTemporaryDatabase(postgresUrl ?? '');
    drop = database.drop;
    const target = new URL(database.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const relayed = new URL(database.url);
    relayed.host = `127.0.0.1:${proxy.port}`;
    gateway = await startTenantGateway({ upstream, databaseUrl: relayed.toString() });
    // A second way in that the outage does not cut: what another instance would see.
    direct = await openTenancyStore(database.url);
  });
  afterAll(async () => {
    await proxy.up().catch(() => undefined);
    await gateway.close();
    await direct.close();
    await proxy.close();
    await upstream.close();
    await drop();
  });

  it('keeps known keys flowing, answers 503 for new ones, and catches up afterwards', async () => {
    const known = await createTestKey(gateway, { rpmLimit: 1_000 });
    const knownClient = gateway.client(known.secret);
    await knownClient.chat.completions.create(ask);
    // Made while the database is up, never used before the outage.
    const fresh = generateKeySecret();
    const freshKey = await direct.createKey(
      { name: 'fresh', keyHash: hashKeySecret(fresh), keyPrefix: keyPrefixOf(fresh) },
      Date.now(),
    );

    await proxy.down();
    for (let index = 0; index < 5; index++) {
      await expect(knownClient.chat.completions.create(ask)).resolves.toBeDefined();
    }
    await expect(gateway.client(fresh).chat.completions.create(ask)).rejects.toMatchObject({
      status: 503,
      code: 'store_unavailable',
    });
    await expect(
      gateway.client(generateKeySecret()).chat.completions.create(ask),
    ).rejects.toMatchObject({ status: 503 });
    // The rows of the requests served meanwhile wait in the writer's queue.
    await eventually(async () => (gateway.running.ledger.queued > 0 ? true : undefined));

    await proxy.up();
    const rows = await eventually(async () => {
      const page = await direct.requests({ keyId: known.record.id, limit: 20 });
      return page.rows.length === 6 ? page.rows : undefined;
    }, 10_000);
    expect(rows.every((row) => row.status === 200)).toBe(true);
    await expect(gateway.client(fresh).chat.completions.create(ask)).resolves.toBeDefined();
    const freshRows = await eventually(async () => {
      const page = await direct.requests({ keyId: freshKey.id, limit: 5 });
      return page.rows.length > 0 ? page.rows : undefined;
    });
    expect(freshRows[0]?.status).toBe(200);
  });
});

describe.skipIf(postgresUrl === null || redisUrlOrSkip() === null)(
  'tenancy when Redis is down and back',
  () => {
    let upstream: FakeUpstream;
    let proxy: TcpProxy;
    let gateway: TenantGateway;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      upstream = await startFakeUpstream();
      const database = await createTemporaryDatabase(postgresUrl ?? '');
      drop = database.drop;
      const redis = new URL(redisUrlOrSkip() ?? '');
      proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
      gateway = await startTenantGateway({
        upstream,
        databaseUrl: database.url,
        redisUrl: `redis://127.0.0.1:${proxy.port}`,
      });
    });
    afterAll(async () => {
      await proxy.up().catch(() => undefined);
      await gateway.close();
      await proxy.close();
      await upstream.close();
      await drop();
    });

    it('answers 503 for limited keys while the counters are away, static keys unaffected', async () => {
      const { secret } = await createTestKey(gateway, { rpmLimit: 1_000 });
      const client = gateway.client(secret);
      await client.chat.completions.create(ask);
      await proxy.down();
      await expect(client.chat.completions.create(ask)).rejects.toMatchObject({
        status: 503,
        code: 'store_unavailable',
      });
      await expect(gateway.client(STATIC_KEY).chat.completions.create(ask)).resolves.toBeDefined();
      await proxy.up();
      await eventually(async () => {
        try {
          return await client.chat.completions.create(ask);
        } catch {
          return undefined;
        }
      }, 10_000);
    });
  },
);
