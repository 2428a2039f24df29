import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsPhrase, normalize, pretokenize, truncateTokens } from '../../../src/sandbox/text';
import { buildVocabulary, NUMBER_TOKENS, SPECIAL_TOKENS, Tokenizer } from '../../../src/sandbox/tokenizer';
import { committedCorpus } from '../../helpers/corpus';

describe('normalisation', () => {
  it('lower-cases, strips accents, spaces punctuation and keeps numbers whole', () => {
    expect(normalize('What is the capital of Mongolia?')).toBe('what is the capital of mongolia ?');
    expect(normalize('São Tomé, Côte d’Ivoire')).toBe('sao tome , cote d ’ ivoire');
    expect(normalize('Mass: 55.845 (1,000 g).')).toBe('mass : 55.845 ( 1,000 g ) .');
    expect(normalize('<TOOL>search: x</TOOL>')).toBe('<tool> search : x </tool>');
    expect(normalize('Øresund Straße')).toBe('oresund strasse');
  });

  it('spells numbers digit by digit with continuation pieces', () => {
    expect(pretokenize('atomic number 26.')).toEqual(['atomic', 'number', '2', '##6', '.']);
    expect(pretokenize('55.845')).toEqual(['5', '##5', '##.', '##8', '##4', '##5']);
  });

  it('matches phrases on piece boundaries only', () => {
    expect(containsPhrase('the atomic mass is 26.982 .', '26')).toBe(false);
    expect(containsPhrase('mongolian togrog', 'Mongolia')).toBe(false);
    expect(containsPhrase('Ulan Bator is the capital', 'ulan bator')).toBe(true);
  });

  it('truncates to a token budget', () => {
    expect(truncateTokens('a b c d', 2)).toEqual({ text: 'a b', truncated: true });
    expect(truncateTokens('a b', 5)).toEqual({ text: 'a b', truncated: false });
  });

  it('is idempotent on arbitrary unicode', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        (s) => normalize(normalize(s)) === normalize(s),
      ),
      { numRuns: 2000 },
    );
  });
});

describe('tokenizer', () => {
  it('puts special and number tokens first, builds deterministically', () => {
    const a = buildVocabulary(['b a a', 'c b a']);
    const b = buildVocabulary(['c b a', 'b a a']);
    expect(a).toEqual(b);
    expect(a.slice(0, SPECIAL_TOKENS.length)).toEqual(SPECIAL_TOKENS);
    expect(a.slice(SPECIAL_TOKENS.length, SPECIAL_TOKENS.length + NUMBER_TOKENS.length)).toEqual(
      NUMBER_TOKENS,
    );
    expect(a.slice(-3)).toEqual(['a', 'b', 'c']);
  });

  it('rejects a malformed vocabulary with a message', () => {
    const result = Tokenizer.fromVocabulary(['<pad>', 'oops']);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/entry 1/);
  });

  it('round-trips every article, question and answer of the corpus with no unknown word', async () => {
    const { tokenizer, artifacts } = await committedCorpus();
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(4096);
    expect(tokenizer.vocabSize).toBe(artifacts.manifest.vocabSize);
    const texts = [
      ...artifacts.articles.map((a) => a.text),
      ...artifacts.qa.flatMap((q) => [q.question, ...q.answers, ...q.hops.map((h) => h.query)]),
    ];
    for (const text of texts) {
      const ids = tokenizer.encode(text);
      expect(ids).not.toContain(tokenizer.special.unk);
      expect(tokenizer.decode(ids)).toBe(normalize(text));
    }
  });

  it('maps unknown words to <unk> and lists them', async () => {
    const { tokenizer } = await committedCorpus();
    const ids = tokenizer.encode('the capital of zzyzx ?');
    expect(ids[3]).toBe(tokenizer.special.unk);
    expect(tokenizer.unknownWords('the capital of zzyzx and qwvb ?')).toEqual(['zzyzx', 'qwvb']);
  });

  it('has one id per protocol tag and per-token display text', async () => {
    const { tokenizer } = await committedCorpus();
    const ids = tokenizer.encode('<tool> search: iron 26 </tool> <eos>');
    expect(ids[0]).toBe(tokenizer.special.toolOpen);
    expect(ids.at(-2)).toBe(tokenizer.special.toolClose);
    expect(ids.at(-1)).toBe(tokenizer.special.eos);
    const six = ids[5];
    expect(tokenizer.tokenText(six)).toBe('6');
    expect(tokenizer.joinsPrevious(six)).toBe(true);
    expect(new Set(Object.values(tokenizer.special)).size).toBe(13);
  });
});
