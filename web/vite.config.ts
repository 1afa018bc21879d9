import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// Built by `npm run build:web` (and `npm run build`, which `npm ci` runs) into web/dist; the
// server serves it at /ui. Every request the UI makes goes to /api/v1.
export default defineConfig({
  base: '/ui/',
  plugins: [preact({ prefreshEnabled: false, devToolsEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    // `npx vite web` during development: the API comes from a running gantry.
    proxy: { '/api': process.env.GANTRY_URL ?? 'http://127.0.0.1:5055' },
  },
});
