// npm run experiment:paper -- [--steps N] [--seeds 1,2,3] [--out runs/paper] [--<knob> V …]
// The study's comparison: GRPO-OR, GRPO-MR and MT-GRPO from the same base policy, three seeds each. Prints a
// table like the study's (training rollouts over the last tenth of the steps, and the held-out greedy
// evaluation at the end; mean ± std over seeds) and writes it as CSV, with a PNG of the training curves.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StepMetrics } from '../rl/metrics';
import { runMain } from './main';
import { lineChartSvg, svgToPng } from './plot';
import { runTraining } from './train';

const METHODS = [
  { preset: 'paper-grpo-or', label: 'GRPO-OR', color: '#d55e00' },
  { preset: 'paper-grpo-mr', label: 'GRPO-MR', color: '#e69f00' },
  { preset: 'paper-mt-grpo', label: 'MT-GRPO', color: '#0072b2' },
] as const;

const COLUMNS = [
  ['train tool execution', (m: StepMetrics[]) => tail(m, (x) => x.toolSuccessRate * x.toolCallRate)],
  ['train answer in results', (m: StepMetrics[]) => tail(m, (x) => x.answerInResultsRate)],
  ['train exact match', (m: StepMetrics[]) => tail(m, (x) => x.exactMatch)],
  ['train format', (m: StepMetrics[]) => tail(m, (x) => x.formatScore)],
  ['held-out tool calls', (m: StepMetrics[]) => lastHeldOut(m, 'toolCallRate')],
  ['held-out tool success', (m: StepMetrics[]) => lastHeldOut(m, 'toolSuccessRate')],
  ['held-out exact match', (m: StepMetrics[]) => lastHeldOut(m, 'exactMatch')],
] as const;

/** Mean over the last tenth of the steps (at least one). */
function tail(metrics: StepMetrics[], pick: (m: StepMetrics) => number): number {
  const n = Math.max(1, Math.round(metrics.length / 10));
  const last = metrics.slice(-n).map(pick);
  return last.reduce((a, b) => a + b, 0) / last.length;
}

function lastHeldOut(metrics: StepMetrics[], key: 'toolCallRate' | 'toolSuccessRate' | 'exactMatch'): number {
  const held = [...metrics].reverse().find((m) => m.heldOut)?.heldOut;
  return held ? held[key] : Number.NaN;
}

const meanStd = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, std };
};

function option(argv: string[], name: string, fallback: string): [string, string[]] {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return [fallback, argv];
  return [argv[i + 1] ?? fallback, [...argv.slice(0, i), ...argv.slice(i + 2)]];
}

async function main(): Promise<void> {
  const [seedsText, afterSeeds] = option(process.argv.slice(2), 'seeds', '1,2,3');
  const [outText, argv] = option(afterSeeds, 'out', 'runs/paper');
  const seeds = seedsText.split(',').map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new Error(`--seeds: "${seedsText}" is not a list of integers`);
  const out = resolve(outText);
  await mkdir(out, { recursive: true });
  const runs: { method: (typeof METHODS)[number]; seed: number; metrics: StepMetrics[] }[] = [];
  for (const method of METHODS) {
    for (const seed of seeds) {
      const dir = join(out, `${method.preset}-seed${seed}`);
      console.log(`== ${method.label}, seed ${seed} → ${dir}`);
      const metrics = await runTraining(
        [...argv, '--preset', method.preset, '--seed', String(seed), '--out', dir, '--quiet'],
        () => undefined,
      );
      const last = metrics[metrics.length - 1];
      console.log(`   ${metrics.length} steps; last held-out: ${JSON.stringify(last?.heldOut ?? null)}`);
      runs.push({ method, seed, metrics });
    }
  }
  const header = ['method', ...COLUMNS.map((c) => c[0])];
  const csv: string[] = [['method', 'seed', ...COLUMNS.map((c) => c[0])].join(',')];
  for (const r of runs)
    csv.push([r.method.label, r.seed, ...COLUMNS.map(([, f]) => f(r.metrics).toFixed(4))].join(','));
  const table: string[] = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const method of METHODS) {
    const mine = runs.filter((r) => r.method === method);
    const cells = COLUMNS.map(([, f]) => {
      const { mean, std } = meanStd(mine.map((r) => f(r.metrics)));
      return `${mean.toFixed(2)} ± ${std.toFixed(2)}`;
    });
    table.push(`| ${method.label} | ${cells.join(' | ')} |`);
  }
  const summaryCsv = [
    header.join(','),
    ...METHODS.map((method) => {
      const mine = runs.filter((r) => r.method === method);
      return [
        method.label,
        ...COLUMNS.map(([, f]) => {
          const { mean, std } = meanStd(mine.map((r) => f(r.metrics)));
          return `${mean.toFixed(4)} ± ${std.toFixed(4)}`;
        }),
      ].join(',');
    }),
  ];
  await writeFile(join(out, 'runs.csv'), `${csv.join('\n')}\n`);
  await writeFile(join(out, 'summary.csv'), `${summaryCsv.join('\n')}\n`);
  await writeFile(join(out, 'summary.md'), `${table.join('\n')}\n`);
  console.log(`\n${table.join('\n')}\n`);
  // Training curves, mean over seeds.
  const curve = (method: (typeof METHODS)[number], pick: (m: StepMetrics) => number) => {
    const mine = runs.filter((r) => r.method === method);
    const steps = Math.min(...mine.map((r) => r.metrics.length));
    return Array.from(
      { length: steps },
      (_, i) => [i + 1, mine.reduce((a, r) => a + pick(r.metrics[i]), 0) / mine.length] as const,
    );
  };
  const panel = (title: string, pick: (m: StepMetrics) => number) => ({
    title,
    yLabel: 'rate (mean over seeds)',
    yMax: 1,
    series: METHODS.map((m) => ({ label: m.label, color: m.color, points: curve(m, pick) })),
  });
  const svg = lineChartSvg([
    panel('Tool calls (training rollouts)', (m) => m.toolCallRate),
    panel('Exact match (training rollouts)', (m) => m.exactMatch),
  ]);
  await writeFile(join(out, 'curves.svg'), svg);
  await svgToPng(svg, join(out, 'curves.png'));
  console.log(`wrote ${join(out, 'summary.md')}, summary.csv, runs.csv, curves.png`);
}

runMain(main);
