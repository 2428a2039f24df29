#!/usr/bin/env node
// Runs a TypeScript entry point under Node with the same module semantics as Vite: WGSL imported with `?raw`
// becomes a string. esbuild bundles the entry (packages stay external) into .cache/node/, then it runs.
//   node scripts/run.mjs src/cli/bench-engine.ts -- --json
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry.ts> [-- args]');
  process.exit(2);
}
const args = rest[0] === '--' ? rest.slice(1) : rest;
const outdir = resolve(root, '.cache/node');
mkdirSync(outdir, { recursive: true });
const outfile = resolve(outdir, `${basename(entry).replace(/\.ts$/, '')}.mjs`);

const rawPlugin = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (a) => ({
      path: resolve(a.resolveDir, a.path.replace(/\?raw$/, '')),
      namespace: 'raw',
    }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, (a) => ({
      contents: readFileSync(a.path, 'utf8'),
      loader: 'text',
    }));
  },
};

await build({
  entryPoints: [resolve(root, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  plugins: [rawPlugin],
  logLevel: 'warning',
  define: { 'import.meta.env.DEV': 'false' },
});
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
