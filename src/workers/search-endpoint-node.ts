// Node endpoint: a worker_threads Worker running the TypeScript entry. `execArgv: ['--import', 'tsx']` does
// not reach a worker's entry module on Node 20 (ERR_UNKNOWN_FILE_EXTENSION), so a two-line bootstrap loads
// the entry through tsx's API instead; this works under `tsx` and under vitest alike.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SearchEndpoint } from './search-endpoint';

/** The worker's entry; bundled callers (the CLI, whose import.meta.url is the bundle's) pass their own. */
const DEFAULT_ENTRY = new URL('./search.node-worker.ts', import.meta.url).href;

/**
 * URL of tsx's ESM API. `require.resolve('tsx/esm/api')` would pick the CommonJS build, which cannot load
 * its hooks when imported, so the ESM file is read off the package's own exports map.
 */
function tsxEsmApiUrl(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return pathToFileURL(join(dirname(manifest), pkg.exports['./esm/api'].import.default)).href;
}

function bootstrapSource(entry: string): string {
  const tsxApi = tsxEsmApiUrl();
  // A failure to load is rethrown outside the promise so it surfaces as the worker's `error` event.
  return `import(${JSON.stringify(tsxApi)})
  .then((api) => (api.tsImport ?? api.default.tsImport)(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))
  .catch((error) => setTimeout(() => { throw error; }));`;
}

export function createNodeSearchEndpoint(entry: string = DEFAULT_ENTRY): SearchEndpoint {
  const worker = new Worker(bootstrapSource(entry), { eval: true, name: 'search' });
  let terminated = false;
  return {
    post: (request) => worker.postMessage(request),
    listen(onMessage, onFailure) {
      worker.on('message', onMessage);
      worker.on('error', (error: unknown) =>
        onFailure(error instanceof Error ? error.message : String(error)),
      );
      worker.on('messageerror', () => onFailure('a message from the search worker could not be read'));
      worker.on('exit', (code) => {
        if (!terminated) onFailure(`the search worker exited with code ${code}`);
      });
    },
    terminate() {
      terminated = true;
      void worker.terminate();
    },
  };
}
