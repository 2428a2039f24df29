// The corpus build: package facts → articles → question drafts → checks → splits → vocabulary. Pure given
// the seed and the installed package versions; `npm run build:corpus` writes the result to public/corpus/ and
// a unit test rebuilds it in memory and compares (determinism and cache freshness in one).

import { Rng } from '../core/rng';
import { cityArticles, countryArticle, elementArticle, symbolArticle } from './articles';
import { ARTIFACT_FILES } from './build-files';
import { type CorpusConfig, DEFAULT_CORPUS_CONFIG } from './config';
import { passagesOf } from './passages';
import { fixedPhraseTexts } from './phrases';
import { countryFacts, elementFacts, sourcePackages } from './sources';
import { assignSplits } from './splits';
import { countryDrafts, elementDrafts, type QuestionDraft } from './tasks';
import { containsAnyPhrase, normalize } from './text';
import { buildVocabulary } from './tokenizer';
import { type Article, type CorpusArtifacts, type QaItem, SPLITS, type Split } from './types';

export function buildArticles(seed: number): Article[] {
  const rng = new Rng(seed).fork('articles');
  const countries = countryFacts();
  const names = new Map(countries.map((c) => [c.code, c.name]));
  const elements = elementFacts();
  return [
    ...countries.flatMap((c) => [
      countryArticle(c, names, rng.fork(`country:${c.code}`)),
      ...cityArticles(c, rng.fork(`city:${c.code}`)),
    ]),
    ...elements.flatMap((e) => [
      elementArticle(e, rng.fork(`element:${e.number}`)),
      symbolArticle(e, rng.fork(`symbol:${e.number}`)),
    ]),
  ];
}

/** Normalised article texts, padded with spaces so phrase tests are plain substring tests. */
export class PhraseIndex {
  private readonly padded: ReadonlyMap<string, string>;

  constructor(articles: readonly Article[]) {
    this.padded = new Map(articles.map((a) => [a.id, ` ${normalize(a.text)} `]));
  }

  has(articleId: string): boolean {
    return this.padded.has(articleId);
  }

  contains(articleId: string, phrases: readonly string[]): boolean {
    const text = this.padded.get(articleId);
    if (text === undefined) return false;
    return phrases.some((p) => {
      const needle = normalize(p);
      return needle.length > 0 && text.includes(` ${needle} `);
    });
  }

  /** Ids of articles containing every one of the phrase groups (each group: any of its phrases). */
  containingAll(groups: readonly (readonly string[])[]): string[] {
    return [...this.padded.keys()].filter((id) => groups.every((g) => this.contains(id, g)));
  }
}

/**
 * Why a draft is not a fair question, or null. A multi-hop draft is rejected when its first hop's article
 * already holds an answer, or when any article holds both the question's bridge and an answer (then one
 * search could suffice).
 */
export function draftRejection(draft: QuestionDraft, index: PhraseIndex): string | null {
  if (draft.answers.length === 0) return 'no accepted answer';
  if (containsAnyPhrase(draft.question, draft.answers)) return 'the question contains the answer';
  for (const hop of draft.hops) {
    if (!index.has(hop.articleId)) return `hop article ${hop.articleId} does not exist`;
    if (!index.contains(hop.articleId, [hop.answer]))
      return `hop article ${hop.articleId} lacks "${hop.answer}"`;
  }
  if (draft.family === 'multi-hop') {
    if (draft.hops.length < 2 || draft.bridge === undefined)
      return 'a multi-hop question needs two hops and a bridge';
    if (index.contains(draft.hops[0].articleId, draft.answers))
      return 'the first hop already holds the answer';
    if (index.containingAll([[draft.bridge], draft.answers]).length > 0)
      return 'one article holds bridge and answer';
  }
  return null;
}

export function buildQuestions(articles: readonly Article[], config: CorpusConfig): QaItem[] {
  const rng = new Rng(config.seed);
  const index = new PhraseIndex(articles);
  const drafts = [...countryDrafts(countryFacts(), rng.fork('questions')), ...elementDrafts(elementFacts())];
  // A question text asked of two entities would have two right answers: drop every copy.
  const questionCounts = new Map<string, number>();
  for (const d of drafts)
    questionCounts.set(normalize(d.question), (questionCounts.get(normalize(d.question)) ?? 0) + 1);
  const kept = drafts.filter(
    (d) => questionCounts.get(normalize(d.question)) === 1 && draftRejection(d, index) === null,
  );
  const splits = assignSplits(
    kept.map((d) => d.entity),
    rng,
    config,
  );
  return kept.map(({ bridge: _bridge, alsoGold, ...d }) => ({
    id: `${d.relation}:${d.entity}`,
    family: d.family,
    relation: d.relation,
    entity: d.entity,
    split: splits.get(d.entity)!,
    question: d.question,
    answers: d.answers,
    goldArticleIds: [...new Set([d.hops[d.hops.length - 1].articleId, ...(alsoGold ?? [])])],
    hops: d.hops,
  }));
}

export function questionCounts(qa: readonly QaItem[]): Record<string, Record<Split, number>> {
  const out: Record<string, Record<Split, number>> = {};
  for (const item of qa) {
    out[item.family] ??= Object.fromEntries(SPLITS.map((s) => [s, 0])) as Record<Split, number>;
    out[item.family][item.split]++;
  }
  return out;
}

/** Every text the model can meet: articles, questions, answers, queries and the protocol's fixed phrases. */
export function vocabularyTexts(articles: readonly Article[], qa: readonly QaItem[]): string[] {
  return [
    ...articles.map((a) => a.text),
    ...qa.flatMap((q) => [q.question, ...q.answers, ...q.hops.flatMap((h) => [h.query, h.answer])]),
    ...fixedPhraseTexts(),
  ];
}

export function buildCorpusArtifacts(config: CorpusConfig = DEFAULT_CORPUS_CONFIG): CorpusArtifacts {
  const articles = buildArticles(config.seed);
  const qa = buildQuestions(articles, config);
  const vocabulary = buildVocabulary(vocabularyTexts(articles, qa), {
    maxSize: config.maxVocabSize,
    minCount: 1,
  });
  const passages = passagesOf(articles, { maxTokens: config.maxPassageTokens, maxSentences: 2 });
  return {
    manifest: {
      formatVersion: 1,
      seed: config.seed,
      sources: sourcePackages(),
      articleCount: articles.length,
      passageCount: passages.length,
      vocabSize: vocabulary.length,
      questionCounts: questionCounts(qa),
    },
    articles,
    qa,
    vocabulary,
  };
}

/** One record per line: valid JSON, compact, and diffs stay readable when the corpus changes. */
function jsonLines(records: readonly unknown[]): string {
  return `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
}

export function serializeArtifacts(artifacts: CorpusArtifacts): Record<string, string> {
  return {
    [ARTIFACT_FILES.manifest]: `${JSON.stringify(artifacts.manifest, null, 2)}\n`,
    [ARTIFACT_FILES.articles]: jsonLines(artifacts.articles),
    [ARTIFACT_FILES.qa]: jsonLines(artifacts.qa),
    [ARTIFACT_FILES.vocabulary]: jsonLines(artifacts.vocabulary),
  };
}
