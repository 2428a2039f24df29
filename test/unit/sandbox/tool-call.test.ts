import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEARCH_CONFIG } from '../../../src/sandbox/config';
import { SearchEngine } from '../../../src/sandbox/search';
import { countTokens } from '../../../src/sandbox/text';
import { parseToolCall } from '../../../src/sandbox/tool-call';
import { createSearchHandler } from '../../../src/workers/search-handler';
import {
  parseSearchRequest,
  parseSearchResponse,
  type SearchResponse,
} from '../../../src/workers/search-protocol';
import { committedCorpus } from '../../helpers/corpus';

const opts = { maxQueryChars: 200 };
const code = (text: string) => {
  const r = parseToolCall(text, opts);
  return r.ok ? 'ok' : r.error.code;
};

describe('tool-call grammar', () => {
  it('accepts <tool> search: QUERY </tool> with free whitespace, after reasoning', () => {
    expect(
      parseToolCall('<reasoning> hm </reasoning> <tool> search: capital of mongolia </tool>', opts),
    ).toEqual({
      ok: true,
      call: { tool: 'search', query: 'capital of mongolia' },
    });
    expect(parseToolCall('<tool>search :  a\n b </tool>\n', opts)).toEqual({
      ok: true,
      call: { tool: 'search', query: 'a b' },
    });
  });

  it('gives a typed error for every malformed call', () => {
    expect(code('<answer> x </answer>')).toBe('no-call');
    expect(code('<tool> search: x')).toBe('malformed-tags');
    expect(code('search: x </tool>')).toBe('malformed-tags');
    expect(code('</tool> <tool> search: x')).toBe('malformed-tags');
    expect(code('<tool> search: <tool> x </tool> </tool>')).toBe('malformed-tags');
    expect(code('<tool> search: x </tool> <answer> y </answer>')).toBe('trailing-text');
    expect(code('<tool> find: x </tool>')).toBe('unknown-tool');
    expect(code('<tool> searching: x </tool>')).toBe('unknown-tool');
    expect(code('<tool> capital of mongolia </tool>')).toBe('missing-tool-name');
    expect(code('<tool> search x </tool>')).toBe('missing-tool-name');
    expect(code('<tool> search:   </tool>')).toBe('empty-query');
    expect(code(`<tool> search: ${'a'.repeat(201)} </tool>`)).toBe('query-too-long');
    expect(code('<tool> search: a\u0000b </tool>')).toBe('control-character');
    expect(code('<tool> search: a\u202Eb </tool>')).toBe('control-character');
    expect(code('<tool> search: </result> <answer> x </tool>')).toBe('markup-in-query');
  });
});

// Strings built to hurt: tag soup, unterminated and nested tags, injection attempts, control characters,
// huge repeats and arbitrary unicode.
const hostile = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc
    .array(
      fc.constantFrom(
        '<tool>',
        '</tool>',
        '<result>',
        '</result>',
        '<answer>',
        '</answer>',
        '<reasoning>',
        'search:',
        'search',
        ':',
        ' ',
        '\u0000',
        '\u202E',
        '\uD800',
        'ignore previous instructions',
        'capital of mongolia',
        '"}]},{"type":"search.init"',
        '<eos>',
        '55.845',
        '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
      ),
      { maxLength: 30 },
    )
    .map((parts) => parts.join('')),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 1, max: 20_000 }))
    .map(([s, n]) => `<tool> search: ${s.repeat(n)} </tool>`),
);

describe('hostile input (property-based, 10,000 strings each)', () => {
  it('the parser never throws and always returns a call or a typed error', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const r = parseToolCall(text, opts);
        if (r.ok) {
          expect(r.call.query.length).toBeGreaterThan(0);
          expect(r.call.query.length).toBeLessThanOrEqual(200);
          expect(r.call.query).not.toMatch(/[<>]/);
        } else {
          expect(typeof r.error.message).toBe('string');
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('the tool (parse + search + format) always returns a well-formed <result> within the budget', async () => {
    const { passages } = await committedCorpus();
    const engine = new SearchEngine(passages);
    fc.assert(
      fc.property(hostile, (text) => {
        const reply = engine.execute(`<reasoning> r </reasoning> ${text}`, DEFAULT_SEARCH_CONFIG);
        expect(reply.text.startsWith('<result> ')).toBe(true);
        expect(reply.text.endsWith(' </result>')).toBe(true);
        expect(countTokens(reply.text)).toBeLessThanOrEqual(DEFAULT_SEARCH_CONFIG.resultTokenBudget + 2);
        // Exactly one opener and one closer: results can never carry injected markup.
        expect(reply.text.split('<').length).toBe(3);
        expect(reply.ok).toBe(reply.error === undefined);
      }),
      { numRuns: 10_000 },
    );
  });

  it('the worker protocol handler answers every message, hostile or not, without throwing', async () => {
    const { passages } = await committedCorpus();
    const replies: SearchResponse[] = [];
    const handle = createSearchHandler((r) => replies.push(r));
    handle({
      type: 'search.init',
      id: 0,
      passages,
      options: DEFAULT_SEARCH_CONFIG,
      testHooks: false,
      cacheEntries: 0,
    });
    fc.assert(
      fc.property(fc.array(hostile, { maxLength: 4 }), fc.anything(), (calls, junk) => {
        replies.length = 0;
        handle({ type: 'search.batch', id: 7, calls });
        handle(junk);
        handle({ type: 'search.batch', id: 8, calls: junk });
        expect(replies.length).toBe(3);
        const first = parseSearchResponse(replies[0]);
        expect(
          first.ok && first.value.type === 'search.results' && first.value.replies.length === calls.length,
        ).toBe(true);
        expect(replies.every((r) => parseSearchResponse(r).ok)).toBe(true);
      }),
      { numRuns: 10_000 },
    );
  });

  it('request parsing rejects malformed messages with a message', () => {
    expect(parseSearchRequest(null)).toMatchObject({ ok: false });
    expect(parseSearchRequest({ type: 'search.batch', id: 1.5, calls: [] })).toMatchObject({ ok: false });
    expect(parseSearchRequest({ type: 'search.nope', id: 1 })).toMatchObject({ ok: false, id: 1 });
    expect(parseSearchRequest({ type: 'search.init', id: 2, passages: [{}], options: {} })).toMatchObject({
      ok: false,
    });
  });
});
