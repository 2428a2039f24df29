// Node entry (worker_threads), started with the tsx loader by createNodeSearchEndpoint.
import { parentPort } from 'node:worker_threads';
import { createSearchHandler } from './search-handler';

if (parentPort === null) throw new Error('search.node-worker.ts must run in a worker thread');
const port = parentPort;
const handle = createSearchHandler((response) => port.postMessage(response));
port.on('message', handle);
