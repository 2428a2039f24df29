// The CPU fallback (DESIGN.md §3: "when navigator.gpu is missing the same model runs on the reference
// backend"): the whole RL step of src/rl/trainer.ts — rollouts with the sandbox in the loop, rewards,
// advantages, μ passes of the clipped surrogate + KL + entropy, AdamW — on the float64 reference
// (src/reference/backend.ts, src/rl/advantages.ts, src/rl/policy-loss-reference.ts). It is one to two orders
// of magnitude slower than SwiftShader's WebGPU, so a run is clamped to CPU_LIMITS (RunInfo's notes say so).
import { type KnobKey, knobSpec, type Result, type RunConfig } from '../core/config';
import type { ParamLayout } from '../model/layout';
import { ReferencePolicy } from '../reference/backend';
import { referenceForward } from '../reference/gpt';
import { advantageConfigSchema } from '../rl/advantage-config';
import { computeAdvantages } from '../rl/advantages';
import { type EvaluationSummary, evaluateGreedy } from '../rl/evaluate';
import { stepMetrics } from '../rl/metrics';
import { lossWeights } from '../rl/policy-loss';
import { type PolicyLossStats, policyLossReference } from '../rl/policy-loss-reference';
import type { RolloutSettings, SearchCaller } from '../rl/rollout';
import { type HyperparameterChange, RunControl } from '../rl/run-control';
import { onScoredTokens, rewardWeightsOf, scoreBatch, trainingArrays } from '../rl/step-data';
import type { Tokenizer } from '../sandbox/tokenizer';
import type { QaItem } from '../sandbox/types';
import { generateOnCpu } from './cpu-rollout';
import type { EngineInputs, EngineStep, PolicyEngine } from './engine';

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

/** The CPU engine for `inputs`, its config clamped to CPU_LIMITS; `reduced` says what was (to tell the person). */
export function createCpuEngine(inputs: EngineInputs): { engine: CpuEngine; reduced: string[] } {
  const clamped = clampForCpu(inputs.config);
  return { engine: new CpuEngine({ ...inputs, config: clamped.config }), reduced: clamped.notes };
}

/** Why a config is over CPU_LIMITS, or null: what the CPU engine refuses live. */
function overCpuLimits(config: RunConfig): string | null {
  const over = (Object.keys(CPU_LIMITS) as (keyof typeof CPU_LIMITS)[]).filter(
    (k) => config[k] > CPU_LIMITS[k],
  );
  if (over.length === 0) return null;
  return `the CPU reference backend runs ${over.map((k) => `${k} at most ${CPU_LIMITS[k]}`).join(', ')}`;
}

const toF64 = (a: ArrayLike<number>) => Float64Array.from(a);

export class CpuEngine implements PolicyEngine {
  readonly backend = 'cpu';
  readonly layout: ParamLayout;
  private readonly run: RunControl;
  private readonly policy: ReferencePolicy;
  private readonly startParams: Float64Array;
  private readonly tokenizer: Tokenizer;
  private readonly search: SearchCaller;
  private readonly heldOutItems: readonly QaItem[];

  /** Runs `inputs.config` as given: over CPU_LIMITS it is slow (createCpuEngine clamps). */
  constructor(inputs: EngineInputs) {
    const { layout, params, config } = inputs;
    this.run = new RunControl(config, inputs.trainItems);
    this.layout = layout;
    this.tokenizer = inputs.tokenizer;
    this.search = inputs.search;
    this.heldOutItems = inputs.heldOutItems;
    this.policy = new ReferencePolicy(layout.config, config.seed);
    this.policy.importParams(params);
    this.startParams = toF64(params);
  }

  get config(): RunConfig {
    return this.run.config;
  }
  get changeLog(): readonly HyperparameterChange[] {
    return this.run.changeLog;
  }
  get stepCount(): number {
    return this.run.stepCount;
  }
  set stepCount(step: number) {
    this.run.stepCount = step;
  }

  setHyperparameters(changes: Partial<RunConfig>): Result<Partial<RunConfig>> {
    return this.run.propose(changes, overCpuLimits);
  }

  private generate(items: readonly QaItem[], settings: RolloutSettings) {
    return generateOnCpu(this.policy, this.tokenizer, this.search, items, settings);
  }

  async step(): Promise<EngineStep> {
    const { step: stepNumber, config: c } = this.run.beginStep();
    const stepStart = performance.now();
    const batch = await this.generate(
      this.run.nextItems(c.promptsPerStep),
      this.run.rolloutSettings(stepNumber),
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
    const optimizer = this.run.optimizerSettings(stepNumber);
    const hyper = this.run.lossHyper();
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
      const result = this.policy.optimize(refBatch, optimizer, (logp, entropy) => {
        // Pass 0 has not moved the policy yet: its log-probs are the rollout policy's (logp_old).
        seen.logpOld ??= Float64Array.from(logp);
        seen.logpLast = Float64Array.from(logp);
        const out = policyLossReference(
          { logp, entropy, logpOld: seen.logpOld, refLogp, advantages: advantages.advantages, weights },
          hyper,
        );
        seen.loss = out.stats;
        return { loss: out.stats.loss, gLogp: out.gLogp, gEntropy: out.gEntropy };
      });
      gradNorm = result.gradNorm;
      skipped = !Number.isFinite(gradNorm) || (seen.loss?.nonFiniteTokens ?? 0) > 0;
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    if (skipped) this.policy.importParams(saved);
    if (!seen.loss) throw new Error('the CPU optimizer never evaluated the loss');
    this.run.stepCount = stepNumber;
    const metrics = stepMetrics({
      step: stepNumber,
      config: c,
      batch,
      breakdowns,
      loss: seen.loss,
      advantages: advantages.stats,
      skipped,
      gradNorm,
      learningRate: optimizer.lr,
      times: { start: stepStart, train: trainStart, end: performance.now() },
      roundTrips: 0,
    });
    const credit = {
      step: stepNumber,
      batch,
      aTurn: advantages.aTurn,
      tokenAdvantages: onScoredTokens(advantages.advantages, n, T),
      logpOld: onScoredTokens(seen.logpOld ?? seen.logpLast, n, T),
      logpLast: onScoredTokens(seen.logpLast, n, T),
      rewards: breakdowns,
    };
    return { metrics, credit, kernels: [] };
  }

  async evaluate(): Promise<EvaluationSummary> {
    const c = this.run.config;
    const items = this.heldOutItems.slice(0, c.evalQuestions);
    // One chunk: evalQuestions is clamped to CPU_LIMITS, so the whole evaluation is one batch.
    const generator = { maxSequences: items.length, generate: this.generate.bind(this) };
    const result = await evaluateGreedy(generator, items, this.run.rolloutSettings(0), rewardWeightsOf(c));
    return result.summary;
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
