import { describe, expect, it } from 'vitest';
import { DEFAULT_SEARCH_CONFIG, searchConfigSchema } from '../../../src/sandbox/config';
import { SearchEngine } from '../../../src/sandbox/search';
import { countTokens } from '../../../src/sandbox/text';
import { formatToolCall } from '../../../src/sandbox/tool-call';
import { committedCorpus } from '../../helpers/corpus';

describe('search engine', () => {
  it('returns top-k passages, default k = 1, up to 5', async () => {
    const { engine } = await committedCorpus();
    expect(engine.search('capital of mongolia', 1).map((p) => p.articleId)).toEqual(['city:mng-0']);
    const five = engine.search('capital of mongolia', 5);
    expect(five.length).toBe(5);
    expect(new Set(five.map((p) => p.id)).size).toBe(5);
    expect(searchConfigSchema.safeParse({ topK: 6 }).success).toBe(false);
    expect(DEFAULT_SEARCH_CONFIG.topK).toBe(1);
  });

  it('truncates the result to the token budget', async () => {
    const { engine } = await committedCorpus();
    const reply = engine.execute(formatToolCall('afghanistan borders'), {
      ...DEFAULT_SEARCH_CONFIG,
      topK: 5,
      resultTokenBudget: 12,
    });
    expect(reply.ok).toBe(true);
    expect(countTokens(reply.text)).toBe(12 + 2);
    expect(reply.passageIds.length).toBe(5);
  });

  it('a query that matches nothing is a failed call', async () => {
    const { engine } = await committedCorpus();
    expect(engine.execute(formatToolCall('zzyzx qwvb'), DEFAULT_SEARCH_CONFIG)).toEqual({
      ok: false,
      error: 'no-results',
      text: '<result> error : no passage matches the query . </result>',
      passageIds: [],
    });
    expect(engine.execute(formatToolCall('the of is ?'), DEFAULT_SEARCH_CONFIG).error).toBe('no-results');
  });

  it('the query cache never changes an answer', async () => {
    const { passages, artifacts } = await committedCorpus();
    const cached = new SearchEngine(passages, { cacheEntries: 64 });
    const plain = new SearchEngine(passages, { cacheEntries: 0 });
    const queries = artifacts.qa.slice(0, 300).flatMap((q) => q.hops.map((h) => h.query));
    for (const q of [...queries, ...queries.reverse()]) {
      expect(cached.search(q, 3).map((p) => p.id)).toEqual(plain.search(q, 3).map((p) => p.id));
    }
  });
});
