// What one chart draws for a set of runs: the shared x axis, one y array per (run, series), and how each
// line looks. With one run the series get colours; overlaid runs get a colour each and series get dashes.

import type { SeriesTable } from '../state/series';
import type { Marker } from '../state/session';
import { alignColumn, unionSteps } from './align';
import { type ChartSpec, RUN_COLOURS, SERIES_DASHES } from './chart-specs';

export interface ChartRun {
  readonly id: number;
  readonly label: string;
  readonly series: SeriesTable;
  readonly heldOut: SeriesTable;
  readonly markers: readonly Marker[];
}

export interface LineStyle {
  readonly label: string;
  readonly colour: string;
  readonly dash: readonly number[];
  /** Held-out points are sparse: connect them across the steps in between. */
  readonly spanGaps: boolean;
}

export interface ChartData {
  readonly xs: number[];
  readonly ys: (number | null)[][];
}

export function chartLines(spec: ChartSpec, runs: readonly ChartRun[]): LineStyle[] {
  const overlay = runs.length > 1;
  return runs.flatMap((run, ri) =>
    spec.series.map((s, si) => ({
      label: overlay ? `${run.label} — ${s.label}` : s.label,
      colour: RUN_COLOURS[(overlay ? ri : si) % RUN_COLOURS.length],
      dash: overlay ? SERIES_DASHES[si % SERIES_DASHES.length] : s.from === 'heldOut' ? [5, 3] : [],
      spanGaps: s.from === 'heldOut',
    })),
  );
}

export function chartData(spec: ChartSpec, runs: readonly ChartRun[]): ChartData {
  const tables = runs.flatMap((r) => [
    r.series,
    ...(spec.series.some((s) => s.from === 'heldOut') ? [r.heldOut] : []),
  ]);
  const xs = unionSteps(tables);
  const ys = runs.flatMap((run) =>
    spec.series.map((s) =>
      alignColumn(xs, { table: s.from === 'heldOut' ? run.heldOut : run.series, key: s.key }),
    ),
  );
  return { xs, ys };
}

/** A structural key: the chart is rebuilt (not just fed data) when its lines change. */
export function linesKey(lines: readonly LineStyle[]): string {
  return lines.map((l) => `${l.label}|${l.colour}|${l.dash.join(',')}`).join(';');
}

/** Runs' colours for the runs list, matching chartLines' overlay colours. */
export function runColour(index: number): string {
  return RUN_COLOURS[index % RUN_COLOURS.length];
}
