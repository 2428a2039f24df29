import { describe, expect, it } from 'vitest';
import { appendRow, column, emptyTable, lastStep, lastValue } from '../../../src/ui/state/series';

describe('series table', () => {
  it('appends rows past the initial capacity and keeps every value', () => {
    let t = emptyTable();
    for (let s = 1; s <= 1000; s++) t = appendRow(t, s, { a: s * 2 });
    expect(t.length).toBe(1000);
    expect(column(t, 'a')[999]).toBe(2000);
    expect(lastStep(t)).toBe(1000);
    expect(lastValue(t, 'a')).toBe(2000);
  });

  it('fills a late column with NaN for earlier rows and a missing key with NaN', () => {
    let t = appendRow(emptyTable(), 1, { a: 1 });
    t = appendRow(t, 2, { b: 5 });
    expect(Array.from(column(t, 'b'))).toEqual([Number.NaN, 5]);
    expect(Array.from(column(t, 'a'))).toEqual([1, Number.NaN]);
    expect(Array.from(column(t, 'missing'))).toEqual([Number.NaN, Number.NaN]);
  });

  it('leaves an older version unchanged, even when it is appended to again', () => {
    const v1 = appendRow(emptyTable(), 1, { a: 1 });
    const v2 = appendRow(v1, 2, { a: 2 });
    const fork = appendRow(v1, 7, { a: 70 });
    expect(Array.from(column(v1, 'a'))).toEqual([1]);
    expect(Array.from(column(v2, 'a'))).toEqual([1, 2]);
    expect(Array.from(column(fork, 'a'))).toEqual([1, 70]);
    expect(Array.from(column(v2, 'a'))).toEqual([1, 2]);
  });

  it('takes 10k steps × 40 columns quickly (amortised growth)', () => {
    const start = performance.now();
    let t = emptyTable();
    const row: Record<string, number> = {};
    for (let s = 1; s <= 10_000; s++) {
      for (let c = 0; c < 40; c++) row[`m${c}`] = s + c;
      t = appendRow(t, s, row);
    }
    expect(t.length).toBe(10_000);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
