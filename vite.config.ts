import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  server: { port: 5173 },
  // The page is one bundle of the engine, React and recharts (about 0.9 MB, 0.3 MB gzipped).
  build: { target: 'es2022', chunkSizeWarningLimit: 1200 },
});
