// Browser entry: `new Worker(new URL('./search.worker.ts', import.meta.url), { type: 'module' })`.
/// <reference lib="webworker" />
import { createSearchHandler } from './search-handler';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const handle = createSearchHandler((response) => scope.postMessage(response));
scope.onmessage = (event: MessageEvent<unknown>) => handle(event.data);
