// Word-level, lower-cased tokenizer over the canonical text of text.ts. The vocabulary is a plain list of
// token strings (index = id), built deterministically from the corpus, the questions and the protocol's fixed
// phrases; it sizes the model's embedding, so it is kept small (numbers are spelled digit by digit).

import {
  CONTINUATION,
  detokenize,
  EOS_TEXT,
  isContinuation,
  PAD_TEXT,
  PROTOCOL_TAGS,
  pretokenize,
  UNK_TEXT,
} from './text';

/** Tokens with fixed ids: padding 0, unknown 1, end of sequence 2, then each protocol tag's opener and closer. */
export const SPECIAL_TOKENS: readonly string[] = [
  PAD_TEXT,
  UNK_TEXT,
  EOS_TEXT,
  ...PROTOCOL_TAGS.flatMap((tag) => [`<${tag}>`, `</${tag}>`]),
];

const DIGITS = '0123456789'.split('');
/** Always present so any number can be spelled: "5", "##5", "##.", "##,". */
export const NUMBER_TOKENS: readonly string[] = [
  ...DIGITS,
  ...DIGITS.map((d) => CONTINUATION + d),
  CONTINUATION + '.',
  CONTINUATION + ',',
];

export interface SpecialTokenIds {
  readonly pad: number;
  readonly unk: number;
  readonly eos: number;
  readonly questionOpen: number;
  readonly questionClose: number;
  readonly reasoningOpen: number;
  readonly reasoningClose: number;
  readonly toolOpen: number;
  readonly toolClose: number;
  readonly resultOpen: number;
  readonly resultClose: number;
  readonly answerOpen: number;
  readonly answerClose: number;
}

export interface VocabularyOptions {
  /** Total size cap, special and number tokens included; the rarest words beyond it map to `<unk>`. */
  readonly maxSize: number;
  /** Words seen fewer times than this are left out. */
  readonly minCount: number;
}

/**
 * Deterministic vocabulary: special tokens, number tokens, then every other piece by descending count, ties
 * broken by code-point order (so the list does not depend on the order of `texts`).
 */
export function buildVocabulary(
  texts: Iterable<string>,
  options: VocabularyOptions = { maxSize: 4096, minCount: 1 },
): string[] {
  const fixed = new Set([...SPECIAL_TOKENS, ...NUMBER_TOKENS]);
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of pretokenize(text)) {
      if (!fixed.has(piece)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
    }
  }
  const words = [...counts.entries()]
    .filter(([, count]) => count >= options.minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([word]) => word);
  const room = Math.max(0, options.maxSize - fixed.size);
  return [...SPECIAL_TOKENS, ...NUMBER_TOKENS, ...words.slice(0, room)];
}

export type TokenizerResult = { ok: true; tokenizer: Tokenizer } | { ok: false; error: string };

export class Tokenizer {
  readonly vocabSize: number;
  readonly special: SpecialTokenIds;
  private readonly tokens: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  private constructor(tokens: readonly string[]) {
    this.tokens = tokens;
    this.vocabSize = tokens.length;
    this.ids = new Map(tokens.map((t, i) => [t, i]));
    const id = (t: string) => this.ids.get(t)!;
    this.special = {
      pad: id(PAD_TEXT),
      unk: id(UNK_TEXT),
      eos: id(EOS_TEXT),
      questionOpen: id('<question>'),
      questionClose: id('</question>'),
      reasoningOpen: id('<reasoning>'),
      reasoningClose: id('</reasoning>'),
      toolOpen: id('<tool>'),
      toolClose: id('</tool>'),
      resultOpen: id('<result>'),
      resultClose: id('</result>'),
      answerOpen: id('<answer>'),
      answerClose: id('</answer>'),
    };
  }

  /** Validates a vocabulary list (e.g. loaded from JSON): specials first in order, number tokens, no duplicates. */
  static fromVocabulary(tokens: readonly unknown[]): TokenizerResult {
    const head = [...SPECIAL_TOKENS, ...NUMBER_TOKENS];
    for (let i = 0; i < head.length; i++) {
      if (tokens[i] !== head[i]) {
        return {
          ok: false,
          error: `vocabulary entry ${i} should be "${head[i]}", found ${JSON.stringify(tokens[i])}`,
        };
      }
    }
    const seen = new Set<string>();
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (typeof token !== 'string' || token.length === 0) {
        return { ok: false, error: `vocabulary entry ${i} is not a non-empty string` };
      }
      if (seen.has(token)) return { ok: false, error: `vocabulary entry ${i} ("${token}") is a duplicate` };
      seen.add(token);
    }
    return { ok: true, tokenizer: new Tokenizer(tokens as readonly string[]) };
  }

  encode(text: string): number[] {
    const unk = this.special.unk;
    return pretokenize(text).map((piece) => this.ids.get(piece) ?? unk);
  }

  decode(ids: readonly number[]): string {
    return detokenize(ids.map((id) => this.tokens[id] ?? UNK_TEXT));
  }

  /** The token's surface text, as the UI shows it ("5" for the continuation digit "##5"). */
  tokenText(id: number): string {
    const token = this.tokens[id] ?? UNK_TEXT;
    return isContinuation(token) ? token.slice(CONTINUATION.length) : token;
  }

  /** True when the token decodes glued to the previous one (the tail of a number). */
  joinsPrevious(id: number): boolean {
    const token = this.tokens[id];
    return token !== undefined && isContinuation(token);
  }

  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** Distinct pieces of `text` that would encode as `<unk>`, in order of first appearance. */
  unknownWords(text: string): string[] {
    const unknown = new Set<string>();
    for (const piece of pretokenize(text)) if (!this.ids.has(piece)) unknown.add(piece);
    return [...unknown];
  }

  /** The whole vocabulary, index = id (what gets saved next to a checkpoint). */
  vocabulary(): readonly string[] {
    return this.tokens;
  }
}
