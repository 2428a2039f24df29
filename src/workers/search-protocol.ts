// The one message protocol between the search client and its worker, in the browser (Web Worker) and in Node
// (worker_threads). Requests carry an id; every reply names the id it answers. Messages crossing the thread
// boundary are validated on arrival (parse*, below), never cast.

import type { SearchOptions, ToolReply } from '../sandbox/search';
import type { Passage } from '../sandbox/types';

export type SearchRequest =
  /** (Re)build the index. Sent first, and again after every restart. */
  | {
      readonly type: 'search.init';
      readonly id: number;
      readonly passages: readonly Passage[];
      readonly options: SearchOptions;
      /** Enables the crash/stall markers below; off in production. */
      readonly testHooks: boolean;
      /** The engine's query cache size (0: off). */
      readonly cacheEntries: number;
    }
  /** One policy turn's text per call; one reply per call, in order. */
  | { readonly type: 'search.batch'; readonly id: number; readonly calls: readonly string[] };

export type SearchResponse =
  | { readonly type: 'search.ready'; readonly id: number; readonly passageCount: number }
  | { readonly type: 'search.results'; readonly id: number; readonly replies: readonly ToolReply[] }
  | { readonly type: 'search.error'; readonly id: number; readonly message: string };

/**
 * Test-only: with `testHooks` on, a call exactly equal to one of these makes the worker throw an uncaught
 * error (a crash) or spin forever (a stall). The NUL prefix keeps them out of anything a policy can produce.
 */
export const TEST_CRASH_MARKER = '\u0000search-worker:test-crash';
export const TEST_STALL_MARKER = '\u0000search-worker:test-stall';

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string; id: number };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: Record<string, unknown>): number | null {
  return typeof value.id === 'number' && Number.isSafeInteger(value.id) ? value.id : null;
}

function isPassage(value: unknown): value is Passage {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.articleId === 'string' &&
    typeof value.title === 'string' &&
    typeof value.text === 'string'
  );
}

function isSearchOptions(value: unknown): value is SearchOptions {
  return (
    isRecord(value) &&
    Number.isInteger(value.topK) &&
    Number.isInteger(value.resultTokenBudget) &&
    Number.isInteger(value.maxQueryChars)
  );
}

export function parseSearchRequest(message: unknown): Parsed<SearchRequest> {
  if (!isRecord(message)) return { ok: false, error: 'a request must be an object', id: -1 };
  const id = idOf(message);
  if (id === null) return { ok: false, error: 'a request needs an integer id', id: -1 };
  switch (message.type) {
    case 'search.init':
      if (!Array.isArray(message.passages) || !message.passages.every(isPassage)) {
        return { ok: false, error: 'search.init needs passages [{id, articleId, title, text}]', id };
      }
      if (!isSearchOptions(message.options))
        return { ok: false, error: 'search.init needs search options', id };
      return {
        ok: true,
        value: {
          type: 'search.init',
          id,
          passages: message.passages,
          options: message.options,
          testHooks: message.testHooks === true,
          cacheEntries: Number.isInteger(message.cacheEntries)
            ? Math.max(0, message.cacheEntries as number)
            : 0,
        },
      };
    case 'search.batch':
      if (!Array.isArray(message.calls))
        return { ok: false, error: 'search.batch needs calls: string[]', id };
      // A non-string call is answered as a failed call by the handler rather than failing the whole batch.
      return {
        ok: true,
        value: {
          type: 'search.batch',
          id,
          calls: message.calls.map((c) => (typeof c === 'string' ? c : '')),
        },
      };
    default:
      return {
        ok: false,
        error: `unknown request type ${JSON.stringify(String(message.type)).slice(0, 60)}`,
        id,
      };
  }
}

function isReply(value: unknown): value is ToolReply {
  return (
    isRecord(value) &&
    typeof value.ok === 'boolean' &&
    typeof value.text === 'string' &&
    Array.isArray(value.passageIds) &&
    value.passageIds.every((p) => typeof p === 'string')
  );
}

export function parseSearchResponse(message: unknown): Parsed<SearchResponse> {
  if (!isRecord(message)) return { ok: false, error: 'a response must be an object', id: -1 };
  const id = idOf(message);
  if (id === null) return { ok: false, error: 'a response needs an integer id', id: -1 };
  switch (message.type) {
    case 'search.ready':
      return {
        ok: true,
        value: { type: 'search.ready', id, passageCount: Number(message.passageCount) || 0 },
      };
    case 'search.results':
      if (!Array.isArray(message.replies) || !message.replies.every(isReply)) {
        return { ok: false, error: 'search.results needs replies [{ok, text, passageIds}]', id };
      }
      return { ok: true, value: { type: 'search.results', id, replies: message.replies } };
    case 'search.error':
      return { ok: true, value: { type: 'search.error', id, message: String(message.message) } };
    default:
      return { ok: false, error: 'unknown response type', id };
  }
}
