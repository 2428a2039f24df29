// Loading the built corpus at run time: validation of the JSON (a stale or hand-edited file gives a message,
// not a crash deep inside training), and the browser loader (fetch from public/corpus/). The Node loader is in
// load-node.ts so the browser bundle never sees node:fs.

import { z } from 'zod';
import { ARTIFACT_FILES } from './build-files';
import { type PassageOptions, passagesOf } from './passages';
import { SearchEngine } from './search';
import { Tokenizer } from './tokenizer';
import type { CorpusArtifacts, Passage } from './types';

const splitSchema = z.enum(['train', 'validation', 'test']);
export const articleSchema = z.object({ id: z.string().min(1), title: z.string(), text: z.string() });
const hopSchema = z.object({ query: z.string(), articleId: z.string(), answer: z.string() });
export const qaItemSchema = z.object({
  id: z.string().min(1),
  family: z.enum(['one-hop', 'multi-hop', 'user']),
  relation: z.string(),
  entity: z.string(),
  split: splitSchema,
  question: z.string().min(1),
  answers: z.array(z.string().min(1)).min(1),
  goldArticleIds: z.array(z.string()),
  hops: z.array(hopSchema),
});
const manifestSchema = z.object({
  formatVersion: z.literal(1),
  seed: z.number().int(),
  sources: z.array(z.object({ name: z.string(), version: z.string(), license: z.string() })),
  articleCount: z.number().int(),
  passageCount: z.number().int(),
  vocabSize: z.number().int(),
  questionCounts: z.record(z.string(), z.record(splitSchema, z.number().int())),
});

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

function check<T>(schema: z.ZodType<T>, value: unknown, file: string): Result<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, error: `${file}: ${issue.message} at ${issue.path.join('.') || 'top level'}` };
}

/** Validates the four parsed JSON files (keyed like ARTIFACT_FILES) into artifacts. */
export function parseArtifacts(
  raw: Readonly<Record<keyof typeof ARTIFACT_FILES, unknown>>,
): Result<CorpusArtifacts> {
  const manifest = check(manifestSchema, raw.manifest, ARTIFACT_FILES.manifest);
  if (!manifest.ok) return manifest;
  const articles = check(z.array(articleSchema), raw.articles, ARTIFACT_FILES.articles);
  if (!articles.ok) return articles;
  const qa = check(z.array(qaItemSchema), raw.qa, ARTIFACT_FILES.qa);
  if (!qa.ok) return qa;
  const tokenizer = Tokenizer.fromVocabulary(Array.isArray(raw.vocabulary) ? raw.vocabulary : []);
  if (!tokenizer.ok) return { ok: false, error: `${ARTIFACT_FILES.vocabulary}: ${tokenizer.error}` };
  return {
    ok: true,
    value: {
      manifest: manifest.value,
      articles: articles.value,
      qa: qa.value,
      vocabulary: tokenizer.tokenizer.vocabulary(),
    },
  };
}

/** What run-time code works with: the artifacts plus the tokenizer, the passages and the search engine. */
export interface OpenCorpus {
  readonly artifacts: CorpusArtifacts;
  readonly tokenizer: Tokenizer;
  readonly passages: readonly Passage[];
  readonly engine: SearchEngine;
}

export function openCorpus(artifacts: CorpusArtifacts, passageOptions?: PassageOptions): OpenCorpus {
  const tokenizer = Tokenizer.fromVocabulary(artifacts.vocabulary);
  if (!tokenizer.ok) throw new Error(tokenizer.error);
  const passages = passagesOf(artifacts.articles, passageOptions);
  return { artifacts, tokenizer: tokenizer.tokenizer, passages, engine: new SearchEngine(passages) };
}

/** Browser (or any fetch): loads `${baseUrl}/manifest.json` etc., e.g. baseUrl = `${import.meta.env.BASE_URL}corpus`. */
export async function loadCorpusFromUrl(
  baseUrl: string,
  fetchFn: typeof fetch = fetch,
): Promise<Result<CorpusArtifacts>> {
  const raw: Record<string, unknown> = {};
  for (const [key, file] of Object.entries(ARTIFACT_FILES)) {
    try {
      const response = await fetchFn(`${baseUrl.replace(/\/$/, '')}/${file}`);
      if (!response.ok) return { ok: false, error: `${file}: HTTP ${response.status}` };
      raw[key] = await response.json();
    } catch (e) {
      return { ok: false, error: `${file}: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return parseArtifacts(raw as Record<keyof typeof ARTIFACT_FILES, unknown>);
}
