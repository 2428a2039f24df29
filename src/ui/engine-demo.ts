// The minimal page's work: a tiny model takes real training steps on navigator.gpu and reports each loss.
// (The playground UI replaces this page; the logic stays useful as a smoke test of the engine in a browser.)
import type { ModelConfig } from '../core/model-config';
import { Rng } from '../core/rng';
import { GpuContext } from '../gpu/context';
import { type Batch, GpuGpt, IGNORE_TARGET } from '../model/gpt';
import { initParams } from '../model/init';
import { buildLayout } from '../model/layout';

export const DEMO_MODEL: ModelConfig = { vocabSize: 16, contextLength: 32, layers: 2, heads: 2, width: 32 };

/** "a b c SEP c b a": the loss counts the reversed half only. */
export function reverseTaskBatch(rng: Rng, B: number, half: number, V: number): Batch {
  const T = 2 * half + 1;
  const sep = V - 1;
  const tokens = new Uint32Array(B * T);
  const targets = new Uint32Array(B * T).fill(IGNORE_TARGET);
  const keyMask = new Uint32Array(B * T).fill(1);
  for (let b = 0; b < B; b++) {
    const seq = Array.from({ length: half }, () => rng.int(V - 1));
    const row = [...seq, sep, ...seq.slice().reverse()];
    row.forEach((token, t) => {
      tokens[b * T + t] = token;
    });
    for (let t = half; t < T - 1; t++) targets[b * T + t] = row[t + 1];
  }
  return { B, T, tokens, targets, keyMask };
}

export interface DemoStep {
  readonly step: number;
  readonly loss: number;
  readonly gradNorm: number;
  readonly ms: number;
}

export async function runEngineDemo(steps: number, onStep: (s: DemoStep) => void): Promise<string> {
  const ctx = await GpuContext.create();
  const layout = buildLayout(DEMO_MODEL);
  const model = await GpuGpt.create(ctx, layout, initParams(layout, new Rng(1)));
  const data = new Rng(2);
  for (let step = 1; step <= steps; step++) {
    const start = performance.now();
    const stats = await model.trainStepSft(reverseTaskBatch(data, 8, 6, DEMO_MODEL.vocabSize), {
      lr: 3e-3,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      weightDecay: 0,
      maxGradNorm: 1,
    });
    onStep({ step, loss: stats.loss, gradNorm: stats.gradNorm, ms: performance.now() - start });
  }
  model.destroy();
  return ctx.info.label;
}
