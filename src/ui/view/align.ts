// uPlot draws series that share one x array. Runs (and held-out evaluations) have their own steps, so their
// columns are merged onto the sorted union of steps, with null where a run has no row (a gap, or spanned).
import type { SeriesTable } from '../state/series';

export interface Column {
  readonly table: SeriesTable;
  readonly key: string;
}

/** The sorted union of the tables' steps (each table's steps increase). */
export function unionSteps(tables: readonly SeriesTable[]): number[] {
  const nonEmpty = tables.filter((t) => t.length > 0);
  if (nonEmpty.length === 0) return [];
  // Common case: every table counts 1, 2, 3, … — the longest one is the union.
  const longest = nonEmpty.reduce((a, b) => (b.length > a.length ? b : a));
  const isPrefix = (t: SeriesTable) => t.steps.subarray(0, t.length).every((s, i) => s === longest.steps[i]);
  if (nonEmpty.every(isPrefix)) return Array.from(longest.steps.subarray(0, longest.length));
  const all = new Set<number>();
  for (const t of nonEmpty) for (let i = 0; i < t.length; i++) all.add(t.steps[i]);
  return [...all].sort((a, b) => a - b);
}

/** One column on the x axis `xs`: its values where its table has the step, null elsewhere or when NaN. */
export function alignColumn(xs: readonly number[], { table, key }: Column): (number | null)[] {
  const out: (number | null)[] = new Array(xs.length).fill(null);
  const values = table.columns.get(key);
  if (!values) return out;
  let j = 0;
  for (let i = 0; i < table.length; i++) {
    const step = table.steps[i];
    while (j < xs.length && xs[j] < step) j++;
    if (j === xs.length) break;
    if (xs[j] === step && Number.isFinite(values[i])) out[j] = values[i];
  }
  return out;
}
