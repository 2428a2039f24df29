// BM25 retrieval over passages (MiniSearch), and the tool itself: turn text in, `<result> … </result>` out.
// Pure and synchronous; the worker (src/workers/) only moves batches of calls across a thread boundary.

import MiniSearch from 'minisearch';
import type { SearchConfig } from './config';
import type { ToolErrorCode } from './phrases';
import { normalize, truncateTokens } from './text';
import { formatResult, formatToolError, parseToolCall } from './tool-call';
import type { Passage } from './types';

/** What the sandbox answers to one policy turn that called the tool. */
export interface ToolReply {
  /** The call parsed and returned at least one passage. */
  readonly ok: boolean;
  /** `<result> … </result>`, normalised, within the token budget (plus the two tags). */
  readonly text: string;
  readonly error?: ToolErrorCode;
  /** Passages shown, best first (empty on error). */
  readonly passageIds: readonly string[];
}

export type SearchOptions = Pick<SearchConfig, 'topK' | 'resultTokenBudget' | 'maxQueryChars'>;

const HAS_WORD = /[\p{L}\p{N}]/u;
// Function words carry no ranking signal but sit in most passages, and MiniSearch scores every passage a
// query term occurs in: dropping them keeps a query near 100 µs. None is a chemical symbol ("in", "as",
// "at", "be", "no" stay searchable).
const STOP_WORDS = new Set(
  'a an and are by do does for from has how is it its of on that the this to was were what which who whose with'.split(
    ' ',
  ),
);

/**
 * Index terms: pieces of normalised text that hold a letter or digit (numbers stay whole, so "26" does not
 * match "26.982"), with a light plural folding ("languages" → "language") applied to index and query alike.
 */
function processTerm(term: string): string | null {
  if (!HAS_WORD.test(term) || term.startsWith('<') || STOP_WORDS.has(term)) return null;
  if (term.length > 4 && term.endsWith('s') && !term.endsWith('ss')) return term.slice(0, -1);
  return term;
}

function tokenize(text: string): string[] {
  return text.split(' ');
}

export function failedReply(code: ToolErrorCode): ToolReply {
  return { ok: false, text: formatToolError(code), error: code, passageIds: [] };
}

export class SearchEngine {
  readonly passages: readonly Passage[];
  private readonly index: MiniSearch<{ i: number; text: string }>;
  /** normalised query + k → passage indices, least recently used first (Map keeps insertion order) */
  private readonly cache = new Map<string, number[]>();
  private readonly cacheEntries: number;

  constructor(passages: readonly Passage[], options: { cacheEntries?: number } = {}) {
    this.passages = passages;
    this.cacheEntries = options.cacheEntries ?? 4096;
    this.index = new MiniSearch({ idField: 'i', fields: ['text'], tokenize, processTerm });
    this.index.addAll(passages.map((p, i) => ({ i, text: normalize(p.text) })));
  }

  /** Top-k passages by BM25 for a free-text query (normalised here); empty when no term matches. */
  search(query: string, topK: number): Passage[] {
    const normalized = normalize(query);
    const key = `${topK} ${normalized}`;
    let ids = this.cache.get(key);
    if (ids !== undefined) {
      this.cache.delete(key);
    } else {
      ids = this.index
        .search(normalized)
        .slice(0, topK)
        .map((hit) => hit.id as number);
    }
    if (this.cacheEntries > 0) {
      this.cache.set(key, ids);
      if (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value as string);
    }
    return ids.map((i) => this.passages[i]);
  }

  /** Parse one policy turn's tool call and run it. Total: every input gives a reply. */
  execute(turnText: string, options: SearchOptions): ToolReply {
    const parsed = parseToolCall(turnText, options);
    if (!parsed.ok) return failedReply(parsed.error.code);
    const found = this.search(parsed.call.query, options.topK);
    if (found.length === 0) return failedReply('no-results');
    const body = truncateTokens(found.map((p) => p.text).join(' '), options.resultTokenBudget).text;
    return { ok: true, text: formatResult(body), passageIds: found.map((p) => p.id) };
  }
}
