// Articles → passages. A tiny policy copies answers out of `<result>`, so results must be short: each passage
// is one or two sentences of one article, at most `maxTokens` tokens, in normalised text.

import { detokenize, pretokenize } from './text';
import type { Article, Passage } from './types';

const SENTENCE_END = new Set(['.', '!', '?']);
// Protocol markup inside a document must never reach a transcript as markup (a user corpus could contain
// "</result> <answer> …"); the pieces are dropped, their words are kept.
const MARKUP = /^<\/?(?:question|reasoning|tool|result|answer|eos|pad|unk)>$/;

export interface PassageOptions {
  readonly maxTokens: number;
  readonly maxSentences: number;
}

export const DEFAULT_PASSAGE_OPTIONS: PassageOptions = { maxTokens: 30, maxSentences: 2 };

const SINGLE_LETTER = /^\p{L}$/u;

/** Sentences end at . ! ? — except a period after a single letter, an initial as in "Washington D.C.". */
function sentences(pieces: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const piece of pieces) {
    const previous = current[current.length - 1];
    current.push(piece);
    if (
      SENTENCE_END.has(piece) &&
      !(piece === '.' && previous !== undefined && SINGLE_LETTER.test(previous))
    ) {
      out.push(current);
      current = [];
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Greedy packing of whole sentences; a sentence longer than `maxTokens` is cut into `maxTokens` chunks. */
export function splitIntoPassages(
  article: Article,
  options: PassageOptions = DEFAULT_PASSAGE_OPTIONS,
): Passage[] {
  const pieces = pretokenize(article.text).filter((p) => !MARKUP.test(p));
  const chunks: string[][] = [];
  for (const sentence of sentences(pieces)) {
    for (let at = 0; at < sentence.length; at += options.maxTokens) {
      chunks.push(sentence.slice(at, at + options.maxTokens));
    }
  }
  const passages: Passage[] = [];
  let current: string[] = [];
  let count = 0;
  const flush = () => {
    if (current.length === 0) return;
    passages.push({
      id: `${article.id}#${passages.length}`,
      articleId: article.id,
      title: article.title,
      text: detokenize(current),
    });
    current = [];
    count = 0;
  };
  for (const chunk of chunks) {
    if (count >= options.maxSentences || current.length + chunk.length > options.maxTokens) flush();
    current.push(...chunk);
    count++;
  }
  flush();
  return passages;
}

export function passagesOf(
  articles: readonly Article[],
  options: PassageOptions = DEFAULT_PASSAGE_OPTIONS,
): Passage[] {
  return articles.flatMap((a) => splitIntoPassages(a, options));
}
