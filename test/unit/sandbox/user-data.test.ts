import { describe, expect, it } from 'vitest';
import { parseCorpusJsonl, parseQaJsonl } from '../../../src/sandbox/user-data';

describe('user corpus JSONL', () => {
  it('parses {id,title,text} lines, skipping blank lines', () => {
    const r = parseCorpusJsonl(
      '{"id":"a","title":"A","text":"Alpha."}\n\n{"id":"b","title":"","text":"Beta."}\r\n',
    );
    expect(r).toEqual({
      ok: true,
      records: [
        { id: 'a', title: 'A', text: 'Alpha.' },
        { id: 'b', title: '', text: 'Beta.' },
      ],
    });
  });

  it('reports every problem with its line number', () => {
    const r = parseCorpusJsonl(
      [
        '{"id":"a","title":"A","text":"x"}',
        '{"id":"a","title":"A","text":"y"}',
        'not json',
        '[1]',
        '{"id":"c","text":"z"}',
        '{"id":"d","title":"D","text":"  "}',
      ].join('\n'),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6]);
    for (const e of r.errors) expect(e.message.startsWith(`line ${e.line}: `)).toBe(true);
    expect(r.errors[0].message).toContain('already used on line 1');
    expect(r.errors[2].message).toContain('JSON object');
    expect(r.errors[3].message).toContain('"title"');
  });

  it('an empty file is an error, not an empty corpus', () => {
    expect(parseCorpusJsonl('\n\n')).toMatchObject({ ok: false, errors: [{ line: 1 }] });
  });
});

describe('user QA JSONL', () => {
  it('parses {question, answers[]} into user items with seeded splits', () => {
    const lines = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify({ question: `q${i}?`, answers: [`a${i}`] }),
    ).join('\n');
    const a = parseQaJsonl(lines, 3);
    const b = parseQaJsonl(lines, 3);
    expect(a).toEqual(b);
    if (!a.ok) throw new Error('expected ok');
    expect(a.records.length).toBe(50);
    expect(a.records[0]).toMatchObject({
      id: 'user:1',
      family: 'user',
      question: 'q0?',
      answers: ['a0'],
      hops: [],
    });
    expect(new Set(a.records.map((r) => r.split))).toEqual(new Set(['train', 'validation', 'test']));
  });

  it('reports bad lines with line numbers', () => {
    const r = parseQaJsonl(
      '{"question":"ok?","answers":["x"]}\n{"question":"","answers":["x"]}\n{"question":"q","answers":[]}\n{"question":"q","answers":["x", 3]}',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.line, e.message])).toEqual([
      [2, 'line 2: "question" must be a non-empty string'],
      [3, 'line 3: "answers" must be a non-empty array of strings'],
      [4, 'line 4: "answers"[1] must be a non-empty string'],
    ]);
  });
});
