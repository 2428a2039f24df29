// One uPlot chart fed straight from the session store, outside React's render: a step's metrics cost a
// throttled setData (chart-scheduler.ts), never a React re-render. Rebuilt only when its lines or the theme
// change. Hyperparameter changes are dashed vertical lines in their run's colour.
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SessionState } from '../state/session';
import { effectiveTheme, useSession, useUi } from '../state/stores';
import { type ChartRun, chartData, chartLines, linesKey } from '../view/chart-data';
import type { ChartSpec } from '../view/chart-specs';
import { formatKnobValue, formatNumber } from '../view/format';
import { cancelDraws, scheduleDraw } from './chart-scheduler';

const HEIGHT = 170;

export function runsOf(s: SessionState): ChartRun[] {
  return [...s.kept, s.live].filter((r, i, all) => r.series.length > 0 || i === all.length - 1);
}

function themeColours() {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string) => style.getPropertyValue(name).trim() || '#888';
  return { axis: v('--muted'), grid: v('--border'), text: v('--text') };
}

export function MetricChart({ spec }: { spec: ChartSpec }) {
  const host = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLParagraphElement>(null);
  const theme = useUi(effectiveTheme);
  // The chart's structure: which runs, which lines. Data changes do not touch this.
  const runKey = useSession((s) =>
    runsOf(s)
      .map((r) => `${r.id}:${r.label}`)
      .join(','),
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: runKey is what changes the runs read here.
  const lines = useMemo(() => chartLines(spec, runsOf(useSession.getState())), [spec, runKey]);
  const structure = `${theme}|${linesKey(lines)}`;

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt when `structure` (lines, theme) changes.
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const colours = themeColours();
    let markers: { step: number; colour: string; text: string }[] = [];
    const axis = {
      stroke: colours.axis,
      grid: { stroke: colours.grid, width: 1 },
      ticks: { stroke: colours.grid },
    };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      scales: { x: { time: false }, y: spec.unit === 'rate' ? { range: [0, 1] } : {} },
      axes: [{ ...axis }, { ...axis, size: 52, values: (_u, ticks) => ticks.map((t) => formatNumber(t, 2)) }],
      series: [
        { label: 'step' },
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.colour,
          dash: [...l.dash],
          width: 1.5,
          spanGaps: l.spanGaps,
          // Dots while a line is too short to see, and always on the sparse held-out evaluations.
          points: { show: (_u: uPlot, _s: number, i0: number, i1: number) => l.spanGaps || i1 - i0 < 24 },
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const { ctx, bbox } = u;
            ctx.save();
            ctx.lineWidth = devicePixelRatio;
            ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
            for (const m of markers) {
              const x = Math.round(u.valToPos(m.step, 'x', true));
              if (x < bbox.left || x > bbox.left + bbox.width) continue;
              ctx.strokeStyle = m.colour;
              ctx.beginPath();
              ctx.moveTo(x, bbox.top);
              ctx.lineTo(x, bbox.top + bbox.height);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            if (!readout.current) return;
            if (idx == null) {
              readout.current.textContent = '\u00a0';
              return;
            }
            const values = lines.map(
              (l, i) => `${l.label} ${formatNumber(u.data[i + 1][idx] ?? Number.NaN)}`,
            );
            const here = markers.filter((m) => m.step === u.data[0][idx]).map((m) => m.text);
            readout.current.textContent = `step ${u.data[0][idx]}: ${values.join(' · ')}${here.length ? ` — ${here.join('; ')}` : ''}`;
          },
        ],
      },
    };
    const chart = new uPlot(opts, [[]], el);
    const draw = () => {
      const runs = runsOf(useSession.getState());
      const { xs, ys } = chartData(spec, runs);
      markers = runs.flatMap((r, ri) =>
        r.markers.map((m) => ({
          step: m.step,
          colour: lines[ri * spec.series.length]?.colour ?? colours.text,
          text: m.changes
            .map((c) => `${c.key} ${formatKnobValue(c.from)} → ${formatKnobValue(c.to)}`)
            .join(', '),
        })),
      );
      chart.setData([xs, ...ys]);
      el.dataset.points = String(xs.length);
      el.dataset.markerSteps = markers.map((m) => m.step).join(',');
    };
    let visible = true;
    let dirty = false;
    const request = () => {
      if (visible) scheduleDraw(chart, draw);
      else dirty = true;
    };
    draw();
    const unsubscribe = useSession.subscribe((s, prev) => {
      if (s.live !== prev.live || s.kept !== prev.kept) request();
    });
    const seen = new IntersectionObserver(([entry]) => {
      visible = entry.isIntersecting;
      if (visible && dirty) {
        dirty = false;
        scheduleDraw(chart, draw);
      }
    });
    seen.observe(el);
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }),
    );
    resize.observe(el);
    return () => {
      unsubscribe();
      seen.disconnect();
      resize.disconnect();
      cancelDraws(chart);
      chart.destroy();
    };
    // `structure` covers `lines` and the theme; the chart reads data from the store, not from props.
  }, [structure]);

  return (
    <figure className="chart" aria-labelledby={`chart-title-${spec.id}`}>
      <figcaption>
        <h3 id={`chart-title-${spec.id}`} title={spec.help}>
          {spec.title}
        </h3>
        <ul className="chart-legend" aria-label="Lines">
          {lines.map((l) => (
            <li key={l.label}>
              <svg width="18" height="8" aria-hidden="true">
                <line
                  x1="0"
                  y1="4"
                  x2="18"
                  y2="4"
                  stroke={l.colour}
                  strokeWidth="2"
                  strokeDasharray={l.dash.join(' ')}
                />
              </svg>
              {l.label}
            </li>
          ))}
        </ul>
      </figcaption>
      <div ref={host} className="chart-canvas" data-testid={`chart-${spec.id}`} />
      <p ref={readout} className="chart-readout" aria-live="off">
        {'\u00a0'}
      </p>
    </figure>
  );
}
