/**
 * What one agent run gets, fresh for each test: a throwaway HOME and an empty working folder (the
 * agent's config, caches and sessions never touch the user's), a recording relay in front of the
 * gateway (its base URL is what the agent is given), and an egress trap its proxy variables point
 * at.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { type EgressTrap, startEgressTrap } from './egress-trap.js';
import { type RecordingRelay, startRecordingRelay } from './recording-relay.js';

/** The folders and loopback servers of one run. */
export interface AgentWorkspace {
  /** The agent's HOME (its config folders go under it). */
  readonly home: string;
  /** The folder the agent starts in, empty. */
  readonly work: string;
  /** In front of the gateway: give the agent `relay.url` (plus a prefix) as its base URL. */
  readonly relay: RecordingRelay;
  readonly trap: EgressTrap;
  /**
   * The environment every agent run starts from: PATH, HOME, the proxies pointing at the trap,
   * and nothing inherited (no keys, no real proxy).
   */
  baseEnv(): Record<string, string>;
}

/**
 * A workspace for each test of the calling suite, in front of `gatewayUrl()`: created before each
 * test, its servers closed and its folders removed after it.
 */
export function useAgentWorkspace(agent: string, gatewayUrl: () => string): AgentWorkspace {
  let current: (AgentWorkspace & { readonly root: string }) | undefined;
  const get = (): AgentWorkspace => {
    if (current === undefined) throw new Error('the workspace exists only inside the tests');
    return current;
  };
  beforeEach(async () => {
    const root = await mkdtemp(join(tmpdir(), `aigw-${agent}-`));
    const home = join(root, 'home');
    const work = join(root, 'work');
    await mkdir(home);
    await mkdir(work);
    const relay = await startRecordingRelay(gatewayUrl());
    const trap = await startEgressTrap();
    current = {
      root,
      home,
      work,
      relay,
      trap,
      baseEnv: () => ({
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        ...trap.proxyEnv(),
      }),
    };
  });
  afterEach(async () => {
    const finished = current;
    current = undefined;
    if (finished === undefined) return;
    await finished.relay.close();
    await finished.trap.close();
    await rm(finished.root, { recursive: true, force: true });
  });
  return {
    get home() {
      return get().home;
    },
    get work() {
      return get().work;
    },
    get relay() {
      return get().relay;
    },
    get trap() {
      return get().trap;
    },
    baseEnv: () => get().baseEnv(),
  };
}
