// Which matmul kernel runs on this adapter. What is fast on SwiftShader (big register tiles, no workgroup memory:
// every load is a gather there) is not what is fast on a discrete GPU (workgroup-memory tiles), so the choice is
// data: a committed table of adapters we have measured (matmul-tuning.json), else a short timing run on the
// adapter at one shape per class, cached per adapter label for the session (and in localStorage in browsers).
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import {
  gemm,
  type MatmulPlan,
  type MatmulShapeClass,
  type MatmulVariant,
  matmulShapeClass,
  setMatmulPlan,
} from './matmul';
import knownPlans from './matmul-tuning.json';

interface TableEntry {
  readonly measured: string;
  readonly choices: Record<MatmulShapeClass, { kernel: string; wg: number[] }>;
}

const TABLE = knownPlans as Readonly<Record<string, TableEntry>>;

/** A representative forward (NT) product per class; all three sum to ~60 MFLOP so tuning stays short. */
export const TUNING_SHAPES: Readonly<Record<MatmulShapeClass, { M: number; N: number; K: number }>> = {
  vector: { M: 1, N: 512, K: 128 },
  small: { M: 64, N: 384, K: 128 },
  large: { M: 512, N: 384, K: 128 },
};

export const TUNING_CANDIDATES: Readonly<Record<MatmulShapeClass, readonly MatmulVariant[]>> = {
  vector: [
    { kernel: 'vec16', wg: [8, 1] },
    { kernel: 'vec16', wg: [64, 1] },
    { kernel: 'reg8', wg: [8, 8] },
    { kernel: 'naive', wg: [64, 1] },
  ],
  small: [
    { kernel: 'reg8', wg: [8, 8] },
    { kernel: 'reg8', wg: [4, 4] },
    { kernel: 'reg16', wg: [4, 4] },
    { kernel: 'tiled', wg: [16, 16] },
  ],
  large: [
    { kernel: 'reg16', wg: [8, 8] },
    { kernel: 'reg16', wg: [4, 4] },
    { kernel: 'reg8', wg: [8, 8] },
    { kernel: 'tiled', wg: [16, 16] },
  ],
};

/** The table's plan for an adapter label, matched on its "vendor/architecture" prefix. */
export function tablePlan(adapterLabel: string): MatmulPlan | null {
  for (const [key, entry] of Object.entries(TABLE)) {
    if (adapterLabel === key || adapterLabel.startsWith(`${key} `)) {
      const choices = {} as Record<MatmulShapeClass, MatmulVariant>;
      for (const cls of Object.keys(TUNING_SHAPES) as MatmulShapeClass[]) {
        const c = entry.choices[cls];
        choices[cls] = { kernel: c.kernel as MatmulVariant['kernel'], wg: [c.wg[0], c.wg[1]] };
      }
      return { adapter: key, source: 'table', choices };
    }
  }
  return null;
}

const tuned = new Map<string, MatmulPlan>();
const storageKey = (label: string) => `matmul-plan:${label}`;

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/**
 * The plan for `ctx`'s adapter, installed with setMatmulPlan: the table's, else a cached tuning, else a new
 * one. A cached plan keeps a run bitwise repeatable on one adapter (variants round differently).
 */
export async function planMatmul(ctx: GpuContext, options: { budgetMs?: number } = {}): Promise<MatmulPlan> {
  const label = ctx.info.label;
  let plan = tablePlan(label) ?? tuned.get(label) ?? null;
  if (!plan) {
    const stored = storage()?.getItem(storageKey(label));
    if (stored) plan = JSON.parse(stored) as MatmulPlan;
  }
  if (!plan) {
    plan = await tuneMatmul(ctx, options.budgetMs);
    tuned.set(label, plan);
    storage()?.setItem(storageKey(label), JSON.stringify(plan));
  }
  setMatmulPlan(plan);
  return plan;
}

export interface TuningReport {
  readonly plan: MatmulPlan;
  /** ms per call for every candidate timed, per class. */
  readonly timings: Record<MatmulShapeClass, Array<{ variant: MatmulVariant; ms: number }>>;
  readonly elapsedMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Times each class's candidates on this adapter (compile, one estimate, then calls filling ~30 ms, best of two)
 * and picks the fastest. Stops early, keeping the best so far, when `budgetMs` is spent.
 */
export async function tuneMatmulReport(ctx: GpuContext, budgetMs = 2000): Promise<TuningReport> {
  const started = performance.now();
  const timings = {} as TuningReport['timings'];
  const choices = {} as Record<MatmulShapeClass, MatmulVariant>;
  for (const cls of Object.keys(TUNING_SHAPES) as MatmulShapeClass[]) {
    const { M, N, K } = TUNING_SHAPES[cls];
    if (matmulShapeClass(M, N) !== cls) throw new Error(`tuning shape for ${cls} falls in another class`);
    const a = ctx.tensor('tune-a', [M, K]);
    const b = ctx.tensor('tune-b', [N, K]);
    const c = ctx.tensor('tune-c', [M, N]);
    timings[cls] = [];
    const run = async (variant: MatmulVariant, calls: number, expectedMs: number) => {
      const t0 = performance.now();
      const enc = ctx.encoder('tune-matmul');
      for (let i = 0; i < calls; i++)
        gemm(enc, c, a, b, { M, N, K }, { transA: false, transB: true, variant });
      enc.submit();
      await ctx.sync(Math.max(0, 0.8 * expectedMs));
      return (performance.now() - t0) / calls;
    };
    try {
      for (const variant of TUNING_CANDIDATES[cls]) {
        // Always time at least the first candidate of each class so every class gets a choice.
        if (timings[cls].length > 0 && performance.now() - started > budgetMs) break;
        await run(variant, 1, 0);
        const estimate = Math.max(await run(variant, 1, 0), 0.01);
        const calls = Math.max(1, Math.min(100, Math.floor(30 / estimate)));
        let ms = estimate;
        for (let r = 0; r < 2; r++) ms = Math.min(ms, await run(variant, calls, calls * estimate));
        timings[cls].push({ variant, ms });
        await sleep(1);
      }
    } finally {
      for (const t of [a, b, c] as Tensor[]) ctx.destroyBuffer(t.buffer);
    }
    choices[cls] = timings[cls].reduce((best, t) => (t.ms < best.ms ? t : best)).variant;
  }
  const plan: MatmulPlan = { adapter: ctx.info.label, source: 'tuned', choices };
  return { plan, timings, elapsedMs: performance.now() - started };
}

export async function tuneMatmul(ctx: GpuContext, budgetMs = 2000): Promise<MatmulPlan> {
  return (await tuneMatmulReport(ctx, budgetMs)).plan;
}
