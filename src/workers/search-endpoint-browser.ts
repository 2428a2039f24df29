// Browser endpoint: a module Web Worker. Vite bundles the worker from the URL below.
import type { SearchEndpoint } from './search-endpoint';

export function createBrowserSearchEndpoint(): SearchEndpoint {
  const worker = new Worker(new URL('./search.worker.ts', import.meta.url), {
    type: 'module',
    name: 'search',
  });
  return {
    post: (request) => worker.postMessage(request),
    listen(onMessage, onFailure) {
      worker.onmessage = (event: MessageEvent<unknown>) => onMessage(event.data);
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        onFailure(event.message || 'the search worker failed');
      };
      worker.onmessageerror = () => onFailure('a message from the search worker could not be read');
    },
    terminate: () => worker.terminate(),
  };
}
