// Builds the console front end (React) into dist/console-web, served by the console backend.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic' },
  build: { outDir: resolve(here, '../../../dist/console-web'), emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
});
