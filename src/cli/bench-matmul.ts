// Matmul GFLOP/s on this adapter: the plan's kernel, each variant and the naive baseline, at square sizes and
// at the bench model's shapes. `bench:engine` folds the same rows in next to tfjs-webgpu's matMul.
//   node scripts/run.mjs src/cli/bench-matmul.ts -- [--sizes 256,512,1024] [--repeats 3] [--round-ms 300]
//     [--train-rows 1024] [--decode-rows 64,1] [--no-tune] [--json]
import { parseArgs } from 'node:util';
import { benchMatmul } from '../bench/matmul';
import { GpuContext } from '../gpu/context';
import { matmulPlan } from '../model/matmul';
import { planMatmul } from '../model/matmul-tuning';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512,1024' },
    repeats: { type: 'string', default: '3' },
    'round-ms': { type: 'string', default: '300' },
    'train-rows': { type: 'string', default: '1024' },
    'decode-rows': { type: 'string', default: '64,1' },
    'no-tune': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const numbers = (s: string) => s.split(',').filter(Boolean).map(Number);

const ctx = await GpuContext.create();
const plan = values['no-tune'] ? matmulPlan() : await planMatmul(ctx);
const rows = await benchMatmul(ctx, {
  sizes: numbers(values.sizes),
  repeats: Number(values.repeats),
  roundMs: Number(values['round-ms']),
  trainRows: Number(values['train-rows']),
  decodeRows: numbers(values['decode-rows']),
});

if (values.json) {
  console.log(JSON.stringify({ adapter: ctx.info.label, plan, rows }, null, 2));
} else {
  console.log(`adapter: ${ctx.info.label}; plan: ${plan.source} (${plan.adapter})`);
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.gflops)))];
  const head = ['shape', 'M', 'N', 'K', 'op', 'chosen', 'GFLOP/s', 'vs naive', ...names];
  const table = rows.map((r) => [
    r.shape.name,
    String(r.shape.M),
    String(r.shape.N),
    String(r.shape.K),
    `${r.shape.transA ? 'T' : 'N'}${r.shape.transB ? 'T' : 'N'}`,
    r.chosen,
    r.chosenGflops.toFixed(2),
    `${(r.chosenGflops / r.naiveGflops).toFixed(1)}×`,
    ...names.map((n) => (r.gflops[n] === undefined ? '–' : r.gflops[n].toFixed(2))),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  for (const row of [head, ...table]) console.log(row.map((c, i) => c.padStart(widths[i])).join('  '));
  const best = rows.map((r) => Math.max(...Object.values(r.gflops)));
  console.log(
    `chosen/best variant, geometric mean: ${geomean(rows.map((r, i) => r.chosenGflops / best[i])).toFixed(2)}`,
  );
}

function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}
