// A search worker as the client sees it, whatever the thread API. The client creates endpoints through a
// factory, so crash detection, timeouts and restarts are written once (search-client.ts).

import type { SearchRequest } from './search-protocol';

export interface SearchEndpoint {
  post(request: SearchRequest): void;
  /** Called once, right after creation. `onFailure` fires when the worker crashed or exited on its own. */
  listen(onMessage: (message: unknown) => void, onFailure: (reason: string) => void): void;
  terminate(): void;
}

export type SearchEndpointFactory = () => SearchEndpoint;
