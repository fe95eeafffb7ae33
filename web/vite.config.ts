import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console's build: `web/` → `dist/ui/`, which the gateway serves at `/ui/`. Paths are
 * relative (`base: './'`) so the page works under that prefix; no module-preload polyfill (every
 * browser the console targets has it), so the build holds no script the CSP would have to allow
 * beyond the bundle itself.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
