// The CPU fallback (DESIGN.md §3: "when navigator.gpu is missing the same model runs on the reference
// backend"): the whole RL step of src/rl/trainer.ts — rollouts with the sandbox in the loop, rewards,
// advantages, μ passes of the clipped surrogate + KL + entropy, AdamW — on the float64 reference
// (src/reference/backend.ts, src/rl/advantages.ts, src/rl/policy-loss-reference.ts). It is one to two orders
// of magnitude slower than SwiftShader's WebGPU, so a run is clamped to CPU_LIMITS (RunInfo's notes say so).
import {
  configDiff,
  type KnobKey,
  knobSpec,
  type Result,
  type RunConfig,
  resetKnobs,
  updateRunConfig,
} from '../core/config';
import { Rng } from '../core/rng';
import type { ParamLayout } from '../model/layout';
import { learningRateAt } from '../model/schedule';
import { ReferencePolicy } from '../reference/backend';
import { referenceForward } from '../reference/gpt';
import { advantageConfigSchema } from '../rl/advantage-config';
import { computeAdvantages } from '../rl/advantages';
import { type EvaluationSummary, summarize } from '../rl/evaluate';
import { advantageMetrics, lossMetrics, rewardMetrics, type StepMetrics } from '../rl/metrics';
import { lossWeights } from '../rl/policy-loss';
import { type PolicyLossStats, policyLossReference } from '../rl/policy-loss-reference';
import type { RolloutSettings, SearchCaller } from '../rl/rollout';
import { rewardWeightsOf, scoreBatch, trainingArrays } from '../rl/step-data';
import type { HyperparameterChange } from '../rl/trainer';
import { DEFAULT_SEARCH_CONFIG } from '../sandbox/config';
import { computeRewards } from '../sandbox/rewards';
import type { Tokenizer } from '../sandbox/tokenizer';
import type { QaItem } from '../sandbox/types';
import { generateOnCpu } from './cpu-rollout';
import type { EngineStep, PolicyEngine } from './engine';

/** The most the CPU path runs per step; larger values are clamped at init and refused live. */
export const CPU_LIMITS = {
  promptsPerStep: 1,
  rolloutsPerPrompt: 4,
  maxTurnTokens: 16,
  evalQuestions: 4,
  policyEpochs: 2,
} as const satisfies Partial<Record<KnobKey, number>>;

/** The config clamped to CPU_LIMITS, and a sentence per knob that was clamped. */
export function clampForCpu(config: RunConfig): { config: RunConfig; notes: string[] } {
  const notes: string[] = [];
  const out: Record<string, unknown> = { ...config };
  for (const [key, limit] of Object.entries(CPU_LIMITS) as [keyof typeof CPU_LIMITS, number][]) {
    if (config[key] > limit) {
      notes.push(`${knobSpec(key).label} ${config[key]} → ${limit}`);
      out[key] = limit;
    }
  }
  return { config: out as RunConfig, notes };
}

const toF64 = (a: ArrayLike<number>) => Float64Array.from(a);

export class CpuEngine implements PolicyEngine {
  readonly backend = 'cpu';
  readonly layout: ParamLayout;
  readonly changeLog: HyperparameterChange[] = [];
  stepCount = 0;
  private configValue: RunConfig;
  private pending: Partial<RunConfig> = {};
  private readonly policy: ReferencePolicy;
  private readonly startParams: Float64Array;
  private order: QaItem[] = [];
  private cursor = 0;
  private epoch = 0;

  constructor(
    layout: ParamLayout,
    params: Float32Array,
    config: RunConfig,
    private readonly tokenizer: Tokenizer,
    private readonly search: SearchCaller,
    private readonly trainItems: readonly QaItem[],
    private readonly heldOutItems: readonly QaItem[],
  ) {
    if (trainItems.length === 0) throw new Error('no training questions');
    this.layout = layout;
    this.configValue = config;
    this.policy = new ReferencePolicy(layout.config, config.seed);
    this.policy.importParams(params);
    this.startParams = toF64(params);
  }

  get config(): RunConfig {
    return this.configValue;
  }

  setHyperparameters(changes: Partial<RunConfig>): Result<Partial<RunConfig>> {
    const merged = { ...this.pending, ...changes };
    const next = updateRunConfig(this.configValue, merged);
    if (!next.ok) return next;
    const needReset = resetKnobs(configDiff(this.configValue, next.value));
    if (needReset.length > 0) return { ok: false, error: `requires reset: ${needReset.join(', ')}` };
    const over = (Object.keys(CPU_LIMITS) as (keyof typeof CPU_LIMITS)[]).filter(
      (k) => next.value[k] > CPU_LIMITS[k],
    );
    if (over.length > 0) {
      const what = over.map((k) => `${k} at most ${CPU_LIMITS[k]}`).join(', ');
      return { ok: false, error: `the CPU reference backend runs ${what}` };
    }
    this.pending = merged;
    return { ok: true, value: merged };
  }

  private applyPending(): void {
    const next = updateRunConfig(this.configValue, this.pending);
    this.pending = {};
    if (!next.ok) return;
    for (const key of configDiff(this.configValue, next.value)) {
      this.changeLog.push({
        step: this.stepCount + 1,
        key,
        from: this.configValue[key],
        to: next.value[key],
      });
    }
    this.configValue = next.value;
  }

  private nextItems(P: number): QaItem[] {
    const out: QaItem[] = [];
    while (out.length < P) {
      if (this.cursor >= this.order.length) {
        this.order = new Rng(this.configValue.seed).fork(`epoch-${this.epoch++}`).shuffled(this.trainItems);
        this.cursor = 0;
      }
      out.push(this.order[this.cursor++]);
    }
    return out;
  }

  private settings(step: number): RolloutSettings {
    const c = this.configValue;
    return {
      rolloutsPerPrompt: c.rolloutsPerPrompt,
      maxTurns: c.maxTurns,
      maxTurnTokens: c.maxTurnTokens,
      temperature: c.temperature,
      topK: c.topK,
      topP: c.topP,
      seed: c.seed,
      step,
      hideToolResults: c.hideToolResults,
      searchTopK: c.searchTopK,
      resultTokenBudget: c.resultTokenBudget,
    };
  }

  async step(): Promise<EngineStep> {
    this.applyPending();
    const c = this.configValue;
    const stepNumber = this.stepCount + 1;
    const stepStart = performance.now();
    const batch = await generateOnCpu(
      this.policy,
      this.tokenizer,
      this.search,
      this.nextItems(c.promptsPerStep),
      this.settings(stepNumber),
    );
    const trainStart = performance.now();
    const { P, G, T } = batch;
    const n = P * G;
    const { breakdowns, rewards } = scoreBatch(batch, rewardWeightsOf(c));
    const arrays = trainingArrays(batch);
    const advantages = computeAdvantages(
      rewards,
      { sequenceLength: T, turnIndex: arrays.actionTurn, lossMask: arrays.actionMask },
      advantageConfigSchema.parse(c),
    );
    const weights = lossWeights(arrays.actionMask, n, T, c.lossAggregation);
    const refBatch = { B: n, T, tokens: batch.tokens, targets: arrays.targets, keyMask: batch.keyMask };
    const refLogp = c.klCoef > 0 ? referenceForward(this.layout, this.startParams, refBatch).logp : null;
    const lr = learningRateAt(stepNumber, {
      learningRate: c.learningRate,
      warmupSteps: c.warmupSteps,
      schedule: c.lrSchedule,
      totalSteps: c.steps,
      minLearningRateRatio: c.minLearningRateRatio,
    });
    const hyper = { clipLow: c.clipLow, clipHigh: c.clipHigh, klCoef: c.klCoef, entropyCoef: c.entropyCoef };
    // Filled by the objective, which the reference optimizer calls once per pass.
    const seen: { logpOld: Float64Array | null; logpLast: Float64Array; loss: PolicyLossStats | null } = {
      logpOld: null,
      logpLast: new Float64Array(n * T),
      loss: null,
    };
    let gradNorm = 0;
    let skipped = false;
    // AdamW on NaN gradients would poison the parameters; the reference optimizer has no on-device guard, so
    // a non-finite pass restores them (and, unlike the GPU path, restarts the Adam moments).
    const saved = this.policy.exportParams();
    for (let pass = 0; pass < c.policyEpochs && !skipped; pass++) {
      const result = this.policy.optimize(
        refBatch,
        {
          lr,
          beta1: c.beta1,
          beta2: c.beta2,
          eps: c.adamEps,
          weightDecay: c.weightDecay,
          maxGradNorm: c.maxGradNorm,
        },
        (logp, entropy) => {
          // Pass 0 has not moved the policy yet: its log-probs are the rollout policy's (logp_old).
          seen.logpOld ??= Float64Array.from(logp);
          seen.logpLast = Float64Array.from(logp);
          const out = policyLossReference(
            { logp, entropy, logpOld: seen.logpOld, refLogp, advantages: advantages.advantages, weights },
            hyper,
          );
          seen.loss = out.stats;
          return { loss: out.stats.loss, gLogp: out.gLogp, gEntropy: out.gEntropy };
        },
      );
      gradNorm = result.gradNorm;
      skipped = !Number.isFinite(gradNorm) || (seen.loss?.nonFiniteTokens ?? 0) > 0;
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    if (skipped) this.policy.importParams(saved);
    if (!seen.loss) throw new Error('the CPU optimizer never evaluated the loss');
    const lossStats = seen.loss;
    this.stepCount = stepNumber;
    const end = performance.now();
    const generated = batch.lossMask.reduce((a, b) => a + b, 0);
    const metrics: StepMetrics = {
      step: stepNumber,
      ...rewardMetrics(batch, breakdowns, DEFAULT_SEARCH_CONFIG.maxQueryChars, rewardWeightsOf(c)),
      ...lossMetrics(lossStats),
      ...advantageMetrics(advantages.stats),
      skipped,
      gradNorm,
      learningRate: lr,
      actionTokens: lossStats.tokens,
      rolloutMs: batch.timings.rolloutMs,
      toolMs: batch.timings.toolMs,
      trainMs: end - trainStart,
      stepMs: end - stepStart,
      tokensPerSec: (generated + n * T * c.policyEpochs) / ((end - stepStart) / 1000),
      roundTrips: 0,
    };
    const shifted = (atPredictor: ArrayLike<number>) => {
      const out = new Float32Array(n * T);
      for (let r = 0; r < n; r++) for (let t = 0; t + 1 < T; t++) out[r * T + t + 1] = atPredictor[r * T + t];
      return out;
    };
    const credit = {
      step: stepNumber,
      batch,
      aTurn: advantages.aTurn,
      tokenAdvantages: shifted(advantages.advantages),
      logpOld: shifted(seen.logpOld ?? seen.logpLast),
      logpLast: shifted(seen.logpLast),
      rewards: breakdowns,
    };
    return { metrics, credit, kernels: [] };
  }

  async evaluate(): Promise<EvaluationSummary> {
    const items = this.heldOutItems.slice(0, this.configValue.evalQuestions);
    const settings = { ...this.settings(0), rolloutsPerPrompt: 1, temperature: 0, topK: 0, topP: 1 };
    const batch = await generateOnCpu(this.policy, this.tokenizer, this.search, items, settings);
    const weights = rewardWeightsOf(this.configValue);
    return summarize(
      items.map((item, i) => ({
        item,
        rollout: batch.rollouts[i],
        rewards: computeRewards(batch.rollouts[i], item, weights),
      })),
    );
  }

  async readParams(): Promise<Float32Array> {
    return this.policy.exportParams();
  }

  memoryBytes(): number {
    // params, two Adam moments and the start copy, float64
    return this.layout.totalFloats * 8 * 4;
  }

  destroy(): void {}
}
