import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The dashboard is served by the API at /ui/ (services/api/src/routes/dashboard-ui.ts), so every
 * asset URL starts with /ui/. `npm run dev -w services/dashboard` serves it with hot reload and
 * forwards the API paths to PW_API_URL (default http://127.0.0.1:3000, what `npm start` runs).
 */
const api = process.env['PW_API_URL'] ?? 'http://127.0.0.1:3000';

export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The graph and chart libraries make one chunk of about 600 kB; it is cached for a year.
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: { '/v1': { target: api, changeOrigin: true }, '/openapi.json': api },
  },
});
