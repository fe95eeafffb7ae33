import { hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One built file of the console, ready to send. */
export interface StaticFile {
  readonly body: Buffer;
  /** The body gzipped, for compressible types of some size; undefined otherwise. */
  readonly gzipped: Buffer | undefined;
  readonly contentType: string;
  /** A strong ETag from the content. */
  readonly etag: string;
  /** Vite's hashed output (`assets/…`): its name changes with its content, so it never goes stale. */
  readonly immutable: boolean;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Smaller bodies gain nothing from gzip that is worth its header and CPU. */
const MIN_GZIP_BYTES = 1024;

/**
 * The folder `npm run build` writes the console to: `dist/ui` beside the compiled server, found
 * from this module both when it runs compiled (`dist/console/`) and from source (`src/console/`,
 * under tsx).
 */
export function defaultConsoleRoot(): string {
  const compiled = fileURLToPath(new URL('../ui/', import.meta.url));
  const fromSource = fileURLToPath(new URL('../../dist/ui/', import.meta.url));
  return existsSync(join(compiled, 'index.html')) ? compiled : fromSource;
}

/**
 * Every file under `root`, by its path relative to it (`index.html`, `assets/index-B1x2.js`), read
 * once at start: a request can only name a file that is in this map, so no path it sends ever
 * reaches the file system (no traversal to guard against), and nothing is read per request.
 * Undefined when the folder has no `index.html` (the console was not built).
 */
export function loadStaticFiles(root: string): ReadonlyMap<string, StaticFile> | undefined {
  if (!existsSync(join(root, 'index.html'))) return undefined;
  const files = new Map<string, StaticFile>();
  const visit = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        visit(path);
        continue;
      }
      const contentType = CONTENT_TYPES[extname(entry.name)];
      // Source maps and anything unexpected stay on disk.
      if (!entry.isFile() || contentType === undefined) continue;
      const name = relative(root, path).split(sep).join('/');
      const body = readFileSync(path);
      const compressible = /^(text\/|image\/svg|application\/json)/.test(contentType);
      files.set(name, {
        body,
        gzipped: compressible && body.length >= MIN_GZIP_BYTES ? gzipSync(body) : undefined,
        contentType,
        etag: `"${hash('sha256', body, 'base64url').slice(0, 27)}"`,
        immutable: name.startsWith('assets/'),
      });
    }
  };
  visit(root);
  return files;
}
