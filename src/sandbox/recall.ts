// Retrieval quality of the natural 1-hop queries. A question counts as retrieved at k when one of the top-k
// passages for its natural query belongs to a gold article AND contains an accepted answer (a passage of the
// right article that misses the answer does not help a policy that copies from the result).

import type { SearchEngine } from './search';
import { containsAnyPhrase } from './text';
import type { QaItem } from './types';

export interface RecallReport {
  readonly questions: number;
  readonly recallAt1: number;
  readonly recallAtK: number;
  readonly k: number;
  /** recall@1 per relation */
  readonly byRelation: Readonly<Record<string, number>>;
}

export function retrievalRecall(engine: SearchEngine, items: readonly QaItem[], k: number): RecallReport {
  const oneHop = items.filter((q) => q.family === 'one-hop' && q.hops.length === 1);
  let at1 = 0;
  let atK = 0;
  const relation = new Map<string, { hits: number; total: number }>();
  for (const item of oneHop) {
    const gold = new Set(item.goldArticleIds);
    const found = engine.search(item.hops[0].query, k);
    const good = found.map((p) => gold.has(p.articleId) && containsAnyPhrase(p.text, item.answers));
    const r = relation.get(item.relation) ?? { hits: 0, total: 0 };
    r.total++;
    if (good[0]) {
      at1++;
      r.hits++;
    }
    if (good.some(Boolean)) atK++;
    relation.set(item.relation, r);
  }
  const n = Math.max(1, oneHop.length);
  return {
    questions: oneHop.length,
    recallAt1: at1 / n,
    recallAtK: atK / n,
    k,
    byRelation: Object.fromEntries([...relation].map(([name, r]) => [name, r.hits / r.total])),
  };
}
