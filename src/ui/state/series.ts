// Live metric series as columns of Float64Array, one row per step. 10k steps × ~30 columns must chart smoothly,
// so rows are appended into pre-grown buffers (amortised doubling) instead of copying arrays per step.
//
// The table is append-only and "pure enough" for a reducer: appending writes past the old version's `length`
// and returns a new object, so a previous version still reads exactly the rows it had. Only the newest version
// may be appended to (the reducer is linear), which `appendRow` checks.

export interface SeriesTable {
  readonly length: number;
  /** Step of each row, in [0, length). */
  readonly steps: Float64Array;
  /** One column per metric key; NaN where a row had no value for it. Arrays share `steps`' capacity. */
  readonly columns: ReadonlyMap<string, Float64Array>;
  /** Shared by every version grown from the same buffers: the length of the newest version. */
  readonly head: { length: number };
}

const INITIAL_CAPACITY = 256;

export function emptyTable(): SeriesTable {
  return {
    length: 0,
    steps: new Float64Array(INITIAL_CAPACITY),
    columns: new Map(),
    head: { length: 0 },
  };
}

function grow(buffer: Float64Array, capacity: number): Float64Array {
  const next = new Float64Array(capacity).fill(Number.NaN);
  next.set(buffer);
  return next;
}

/** Appends one row; keys never seen before get a new column, NaN for earlier rows. */
export function appendRow(
  table: SeriesTable,
  step: number,
  values: Readonly<Record<string, number>>,
): SeriesTable {
  const n = table.length;
  // Appending to an older version would overwrite rows a newer version already owns: copy instead.
  const base = table.head.length === n ? table : copyTable(table);
  let { steps, head } = base;
  let columns = new Map(base.columns);
  if (n >= steps.length) {
    const capacity = steps.length * 2;
    steps = grow(steps, capacity);
    columns = new Map([...columns].map(([k, col]) => [k, grow(col, capacity)]));
    head = { length: n };
  }
  steps[n] = step;
  for (const [key, col] of columns) col[n] = key in values ? values[key] : Number.NaN;
  for (const key of Object.keys(values)) {
    if (columns.has(key)) continue;
    const col = new Float64Array(steps.length).fill(Number.NaN);
    col[n] = values[key];
    columns.set(key, col);
  }
  head.length = n + 1;
  return { length: n + 1, steps, columns, head };
}

function copyTable(table: SeriesTable): SeriesTable {
  const capacity = Math.max(INITIAL_CAPACITY, table.steps.length);
  const cut = (a: Float64Array) => grow(a.subarray(0, table.length), capacity);
  return {
    length: table.length,
    steps: cut(table.steps),
    columns: new Map([...table.columns].map(([k, c]) => [k, cut(c)])),
    head: { length: table.length },
  };
}

/** The rows [0, length) of a column (a view, no copy); NaN-filled when the key is unknown. */
export function column(table: SeriesTable, key: string): Float64Array {
  const col = table.columns.get(key);
  return col ? col.subarray(0, table.length) : new Float64Array(table.length).fill(Number.NaN);
}

export function lastStep(table: SeriesTable): number | null {
  return table.length === 0 ? null : table.steps[table.length - 1];
}

export function lastValue(table: SeriesTable, key: string): number {
  const col = table.columns.get(key);
  return col && table.length > 0 ? col[table.length - 1] : Number.NaN;
}
