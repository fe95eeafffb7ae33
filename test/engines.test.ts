import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly engines?: { readonly node?: unknown };
}

interface InstalledPackage {
  readonly id: string;
  readonly nodeRange: string | undefined;
}

const root = fileURLToPath(new URL('..', import.meta.url));

function readManifest(file: string): Manifest {
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/**
 * Every package under a `node_modules` folder, nested ones included, as npm laid it out: what
 * `npm ci` installed on this machine, dev dependencies too.
 */
function installedPackages(nodeModules: string): InstalledPackage[] {
  const found: InstalledPackage[] = [];
  const visit = (folder: string): void => {
    const manifestFile = join(folder, 'package.json');
    if (existsSync(manifestFile)) {
      const manifest = readManifest(manifestFile);
      const node = manifest.engines?.node;
      found.push({
        id: `${manifest.name}@${manifest.version}`,
        nodeRange: typeof node === 'string' ? node : undefined,
      });
    }
    const nested = join(folder, 'node_modules');
    if (existsSync(nested)) visitFolder(nested);
  };
  const visitFolder = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      // `.bin`, `.package-lock.json`, caches: not packages.
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.name.startsWith('@')) {
        for (const scoped of readdirSync(path, { withFileTypes: true })) {
          if (scoped.isDirectory()) visit(join(path, scoped.name));
        }
      } else {
        visit(path);
      }
    }
  };
  visitFolder(nodeModules);
  return found;
}

/** Whether every Node version that `ours` allows also satisfies `theirs`. */
function allowsEvery(ours: string, theirs: string): boolean {
  try {
    return semver.subset(ours, theirs);
  } catch {
    return false; // a range semver cannot read is one npm cannot check either
  }
}

describe('engines', () => {
  const ours = readManifest(join(root, 'package.json')).engines?.node;
  const packages = installedPackages(join(root, 'node_modules'));

  it('states the Node lines we support, and no odd one', () => {
    expect(typeof ours).toBe('string');
    const range = String(ours);
    for (const version of ['20.19.0', '22.12.0', '24.0.0', '24.99.0', '26.0.0']) {
      expect(semver.satisfies(version, range), version).toBe(true);
    }
    // better-sqlite3, a native addon, names the majors it builds for (up to 26): no open end.
    for (const version of [
      '18.20.0',
      '20.18.3',
      '21.7.0',
      '22.11.0',
      '23.11.0',
      '25.0.0',
      '27.0.0',
    ]) {
      expect(semver.satisfies(version, range), version).toBe(false);
    }
  });

  it('is satisfied by the Node running the tests', () => {
    expect(semver.satisfies(process.versions.node, String(ours))).toBe(true);
  });

  it('finds the installed tree', () => {
    const ids = packages.map((installed) => installed.id);
    expect(ids).toEqual(expect.arrayContaining([expect.stringMatching(/^fastify@/)]));
    expect(
      packages.filter((installed) => installed.nodeRange !== undefined).length,
    ).toBeGreaterThan(50);
  });

  it('has every installed package accept every Node our engines allow', () => {
    const range = String(ours);
    const unmet = packages
      .filter(({ nodeRange }) => nodeRange !== undefined && !allowsEvery(range, nodeRange))
      .map(({ id, nodeRange }) => `${id} needs node ${nodeRange}`);
    expect(unmet).toEqual([]);
  });
});
