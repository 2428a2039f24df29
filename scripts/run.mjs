#!/usr/bin/env node
// Runs a TypeScript entry point under Node with the same module semantics as Vite: WGSL imported with `?raw`
// becomes a string. esbuild bundles the entry (packages stay external) into .cache/node/, then it runs.
//   node scripts/run.mjs src/cli/bench-engine.ts -- --json
// `--bundle PREFIX` (repeatable) bundles the packages whose names start with PREFIX instead, from their ES
// module builds: tfjs needs it, since its Node builds register no gradients and each package would otherwise
// load its own copy of tfjs-core.
//   node scripts/run.mjs --bundle @tensorflow/ src/cli/bench-tfjs.ts
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const bundled = [];
while (argv[0] === '--bundle' && argv.length >= 2) {
  bundled.push(argv[1]);
  argv.splice(0, 2);
}
const [entry, ...rest] = argv;
if (!entry || entry.startsWith('--')) {
  console.error('usage: node scripts/run.mjs [--bundle PACKAGE_PREFIX]... <entry.ts> [-- args]');
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

// Bare imports stay external (Node resolves them at run time) unless their name starts with a --bundle prefix
// or a bundled package imports them: its CommonJS dependencies (tfjs-core's seedrandom) need esbuild's interop.
const insideBundled = (importer) => bundled.some((prefix) => importer.includes(`/node_modules/${prefix}`));
const selectiveExternal = {
  name: 'selective-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) =>
      bundled.some((prefix) => a.path.startsWith(prefix)) || insideBundled(a.importer)
        ? undefined
        : { path: a.path, external: true },
    );
  },
};

await build({
  entryPoints: [resolve(root, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  ...(bundled.length === 0
    ? { packages: 'external', plugins: [rawPlugin] }
    : {
        mainFields: ['module', 'main'],
        plugins: [rawPlugin, selectiveExternal],
        // Bundled CommonJS code calls require() on Node built-ins; an ES module has none unless we make one.
        banner: {
          js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
        },
      }),
  sourcemap: 'inline',
  logLevel: 'warning',
  define: { 'import.meta.env.DEV': 'false' },
});
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
