import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The app is static: everything, including workers and WGSL (imported with ?raw), is bundled from our
// own origin, which is what the Content-Security-Policy in index.html allows.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: { port: 5173 },
  preview: { port: 4173 },
});
