// Spacing between transcript tokens. The word-level tokenizer drops whitespace (decode puts one space between
// pieces, none before the tail of a number); the snapshot's token texts carry no separator, so the view
// re-derives it: a space between tokens, except between two digit runs (a number split into pieces).

const DIGIT_END = /\d$/;
const DIGIT_START = /^\d/;

export function spaceBefore(previous: string | undefined, token: string): boolean {
  if (previous === undefined) return false;
  if (/\s$/.test(previous) || /^\s/.test(token)) return false;
  return !(DIGIT_END.test(previous) && DIGIT_START.test(token));
}
