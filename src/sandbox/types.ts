// Data shapes shared by the corpus builder, the search engine, the rewards and the loaders. Everything here
// round-trips through JSON (public/corpus/*.json), so it is plain data: no classes, no Maps.

/** One short document. `text` is natural prose (original case and accents); search and rewards normalise it. */
export interface Article {
  /** Stable id, e.g. `country:mng`, `city:ulan-bator`, `element:26`, `symbol:fe`, or the user's id. */
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/** A retrievable unit: a sentence or two of one article, ≲ `maxPassageTokens` tokens, in normalised text. */
export interface Passage {
  /** `${articleId}#${index}` */
  readonly id: string;
  readonly articleId: string;
  readonly title: string;
  readonly text: string;
}

export type Family = 'one-hop' | 'multi-hop' | 'user';
export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

/** One search step of the intended solution: the natural query, the article it should find, what it yields. */
export interface Hop {
  readonly query: string;
  readonly articleId: string;
  /** The bridge entity (intermediate hops) or the final answer (last hop), in natural text. */
  readonly answer: string;
}

export interface QaItem {
  readonly id: string;
  readonly family: Family;
  /** e.g. `capital`, `currency-via-capital`; `user` for imported items. */
  readonly relation: string;
  /** The entity asked about (what the split is keyed on), e.g. `country:mng`, `element:26`. */
  readonly entity: string;
  readonly split: Split;
  readonly question: string;
  /** Accepted answers in natural text; comparisons normalise them. The first is the canonical one. */
  readonly answers: readonly string[];
  /** Articles holding the answer (the last hop's article); empty for user items. */
  readonly goldArticleIds: readonly string[];
  /** The intended search path; empty for user items. */
  readonly hops: readonly Hop[];
}

export interface SourcePackage {
  readonly name: string;
  readonly version: string;
  readonly license: string;
}

export interface CorpusManifest {
  readonly formatVersion: 1;
  readonly seed: number;
  readonly sources: readonly SourcePackage[];
  readonly articleCount: number;
  readonly passageCount: number;
  readonly vocabSize: number;
  /** questions[family][split] */
  readonly questionCounts: Readonly<Record<string, Readonly<Record<Split, number>>>>;
}

/** Everything `npm run build:corpus` writes to public/corpus/. */
export interface CorpusArtifacts {
  readonly manifest: CorpusManifest;
  readonly articles: readonly Article[];
  readonly qa: readonly QaItem[];
  readonly vocabulary: readonly string[];
}
