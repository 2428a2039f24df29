// One RL step end to end on a small random policy with the real sandbox: the numbers it reports, the
// per-token credit it assigns, live hyperparameter changes, and a non-finite step that must change nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type RunConfig } from '../../src/core/config';
import { Rng } from '../../src/core/rng';
import { GpuGpt } from '../../src/model/gpt';
import { initParams } from '../../src/model/init';
import { buildLayout } from '../../src/model/layout';
import { inProcessSearch } from '../../src/rl/search-caller';
import { NO_TURN } from '../../src/rl/sequences';
import { Trainer } from '../../src/rl/trainer';
import type { OpenCorpus } from '../../src/sandbox/load';
import { committedCorpus } from '../helpers/corpus';
import { gpuContext } from '../helpers/gpu';

let corpus: OpenCorpus;
beforeAll(async () => {
  corpus = await committedCorpus();
});

const CONFIG: RunConfig = {
  ...DEFAULT_CONFIG,
  layers: 1,
  heads: 2,
  width: 32,
  contextLength: 128,
  promptsPerStep: 2,
  rolloutsPerPrompt: 4,
  maxTurns: 2,
  maxTurnTokens: 12,
  evalQuestions: 4,
  learningRate: 1e-3,
  // A random policy earns no reward variance (all advantages 0); the entropy bonus still gives a gradient.
  entropyCoef: 0.01,
};

async function makeTrainer(config: RunConfig = CONFIG): Promise<Trainer> {
  const ctx = await gpuContext();
  const vocabSize = Math.ceil(corpus.tokenizer.vocabSize / 64) * 64;
  const layout = buildLayout({
    vocabSize,
    contextLength: config.contextLength,
    layers: config.layers,
    heads: config.heads,
    width: config.width,
  });
  const policy = await GpuGpt.create(ctx, layout, initParams(layout, new Rng(config.seed).fork('init')));
  const items = corpus.artifacts.qa.filter((q) => q.family === 'one-hop');
  return new Trainer({
    policy,
    tokenizer: corpus.tokenizer,
    search: inProcessSearch(corpus.engine),
    trainItems: items.filter((q) => q.split === 'train'),
    heldOutItems: items.filter((q) => q.split === 'validation'),
    config,
  });
}

describe('RL trainer', () => {
  it('takes a step: finite metrics, turns + 1 readbacks, credit only on policy tokens', async () => {
    const trainer = await makeTrainer();
    const before = await trainer.policy.readParams();
    const { metrics, snapshot } = await trainer.step();
    const after = await trainer.policy.readParams();
    expect(metrics.step).toBe(1);
    expect(metrics.skipped).toBe(false);
    for (const key of [
      'loss',
      'gradNorm',
      'entropy',
      'kl',
      'rewardMean',
      'tokensPerSec',
      'learningRate',
    ] as const) {
      expect(Number.isFinite(metrics[key]), key).toBe(true);
    }
    expect(metrics.actionTokens).toBeGreaterThan(0);
    // Rollout readbacks (one per turn) plus the step's one.
    const turns = Math.max(...snapshot.batch.turnsTaken);
    expect(metrics.roundTrips).toBeLessThanOrEqual(turns + 1);
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(false);

    const { batch, aTurn, tokenAdvantages } = snapshot;
    const { K, T } = batch;
    for (let r = 0; r < batch.P * batch.G; r++) {
      for (let t = 0; t < T; t++) {
        const i = r * T + t;
        if (batch.lossMask[i] === 1 && t > 0) {
          expect(tokenAdvantages[i]).toBeCloseTo(aTurn[r * K + batch.turnIndex[i]], 6);
        } else {
          expect(batch.turnIndex[i] === NO_TURN || t === 0).toBe(true);
          expect(tokenAdvantages[i]).toBe(0);
        }
      }
    }
    trainer.destroy();
  });

  it('applies hyperparameter changes at the next step, logs them, and refuses reset knobs and bad values', async () => {
    const trainer = await makeTrainer();
    await trainer.step();
    expect(trainer.setHyperparameters({ learningRate: 2e-3 }).ok).toBe(true);
    expect(trainer.config.learningRate).toBe(1e-3);
    const width = trainer.setHyperparameters({ width: 64 });
    expect(width.ok).toBe(false);
    if (!width.ok) expect(width.error).toMatch(/requires reset: width/);
    const bad = trainer.setHyperparameters({ clipLow: 5 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/clipLow/);
    const { metrics } = await trainer.step();
    expect(metrics.learningRate).toBe(2e-3);
    expect(trainer.changeLog).toEqual([{ step: 2, key: 'learningRate', from: 1e-3, to: 2e-3 }]);
    // More sequences than the rollout engine was built for: it is rebuilt at the boundary.
    expect(trainer.setHyperparameters({ rolloutsPerPrompt: 6 }).ok).toBe(true);
    const grown = await trainer.step();
    expect(grown.snapshot.batch.G).toBe(6);
    trainer.destroy();
  });

  it('a non-finite step is reported and leaves every parameter untouched', async () => {
    const trainer = await makeTrainer();
    const params = await trainer.policy.readParams();
    // One embedding row of 1e30: logits stay finite, but the gradient's squared norm overflows float32.
    const wte = trainer.policy.layout.byName.get('wte')!;
    params.fill(1e30, wte.offset + 5 * CONFIG.width, wte.offset + 6 * CONFIG.width);
    trainer.policy.writeParams(params);
    const { metrics } = await trainer.step();
    expect(metrics.skipped).toBe(true);
    const after = await trainer.policy.readParams();
    expect(Buffer.from(after.buffer).equals(Buffer.from(params.buffer))).toBe(true);
    trainer.destroy();
  });
});
