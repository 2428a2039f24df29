// Text normalisation shared by the tokenizer, the search index and the rewards, so that "the same words" means
// the same thing everywhere. The policy is a tiny word-level model, so text is reduced to a canonical form:
//
//   1. Unicode NFKD, combining marks dropped, a few letters without a decomposition folded (ø→o, ß→ss, …);
//   2. lower case;
//   3. split into pieces: protocol tags (`<tool>`, `</answer>`, `<eos>`, …), words (runs of letters), numbers
//      (`55.845`, `1,000`) and any other single non-space character (punctuation, symbols);
//   4. pieces joined by single spaces.
//
// A number is spelled digit by digit so the vocabulary needs only 22 number tokens: its first digit is a plain
// token ("5") and every following character is a continuation token ("##5", "##.", "##,") that decodes glued to
// its left neighbour. That makes `detokenize(pretokenize(s)) === normalize(s)` exact.

export const PROTOCOL_TAGS = ['question', 'reasoning', 'tool', 'result', 'answer'] as const;
export type ProtocolTag = (typeof PROTOCOL_TAGS)[number];

export const EOS_TEXT = '<eos>';
export const PAD_TEXT = '<pad>';
export const UNK_TEXT = '<unk>';

/** Prefix marking a piece that decodes without a space before it (the tail of a number). */
export const CONTINUATION = '##';

const FOLDED_LETTERS: Readonly<Record<string, string>> = {
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ß: 'ss',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
};

// Tags first so `<tool>` is one piece; then words, numbers, and any other single code point.
const PIECE =
  /<\/?(?:question|reasoning|tool|result|answer)>|<(?:eos|pad|unk)>|\p{L}+|[0-9]+(?:[.,][0-9]+)*|\S/gu;
const COMBINING_MARK = /\p{M}+/gu;
const FOLDABLE = /[øæœßłđðþıħŧ]/g;

/** Steps 1–2: accents off, lower case. Keeps spacing; used before piece splitting. */
export function foldCase(text: string): string {
  // Lower-casing can itself produce decomposable letters, hence the second NFKD pass (keeps this idempotent).
  return text
    .normalize('NFKD')
    .replace(COMBINING_MARK, '')
    .toLowerCase()
    .normalize('NFKD')
    .replace(COMBINING_MARK, '')
    .replace(FOLDABLE, (c) => FOLDED_LETTERS[c] ?? c);
}

/** Token strings of a text, continuation pieces marked with `##`. Vocabulary-free. */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of foldCase(text).matchAll(PIECE)) {
    const piece = match[0];
    const first = piece.charCodeAt(0);
    if (first >= 48 && first <= 57) {
      out.push(piece[0]);
      for (let i = 1; i < piece.length; i++) out.push(CONTINUATION + piece[i]);
    } else {
      out.push(piece);
    }
  }
  return out;
}

export function isContinuation(piece: string): boolean {
  return piece.length > CONTINUATION.length && piece.startsWith(CONTINUATION);
}

/** Inverse of `pretokenize` on normalised text: pieces joined by spaces, continuations glued. */
export function detokenize(pieces: readonly string[]): string {
  let out = '';
  for (const piece of pieces) {
    if (isContinuation(piece)) out += piece.slice(CONTINUATION.length);
    else out += out.length === 0 ? piece : ' ' + piece;
  }
  return out;
}

/** The canonical form every comparison in the sandbox works on. */
export function normalize(text: string): string {
  return detokenize(pretokenize(text));
}

export function countTokens(text: string): number {
  return pretokenize(text).length;
}

/** Normalised text cut to at most `maxTokens` tokens (a number may be cut mid-way, as the model would see it). */
export function truncateTokens(text: string, maxTokens: number): { text: string; truncated: boolean } {
  const pieces = pretokenize(text);
  if (pieces.length <= maxTokens) return { text: detokenize(pieces), truncated: false };
  return { text: detokenize(pieces.slice(0, Math.max(0, maxTokens))), truncated: true };
}

/**
 * Whether `phrase` occurs in `text` on piece boundaries, both normalised: "26" is not found in "26.982" and
 * "mongolia" is not found in "mongolian". An empty phrase is never found.
 */
export function containsPhrase(text: string, phrase: string): boolean {
  const needle = normalize(phrase);
  if (needle.length === 0) return false;
  return (' ' + normalize(text) + ' ').includes(' ' + needle + ' ');
}

export function containsAnyPhrase(text: string, phrases: readonly string[]): boolean {
  const haystack = ' ' + normalize(text) + ' ';
  for (const phrase of phrases) {
    const needle = normalize(phrase);
    if (needle.length > 0 && haystack.includes(' ' + needle + ' ')) return true;
  }
  return false;
}

/** Case- and accent-insensitive equality on the canonical form. */
export function sameText(a: string, b: string): boolean {
  return normalize(a) === normalize(b);
}
