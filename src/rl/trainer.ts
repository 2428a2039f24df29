// The RL loop (DESIGN.md §1): rollouts on the GPU with the sandbox in the loop → rewards on the CPU →
// advantages on the GPU → μ passes of { forward → clipped surrogate + β·KL − c·entropy → backward → clip →
// AdamW } → one readback of the step's numbers. Hyperparameter changes wait for the step boundary.
import type { Result, RunConfig } from '../core/config';
import type { GpuContext } from '../gpu/context';
import type { Tensor } from '../gpu/tensor';
import { GpuGpt } from '../model/gpt';
import type { Tokenizer } from '../sandbox/tokenizer';
import type { QaItem } from '../sandbox/types';
import { advantageConfigSchema } from './advantage-config';
import {
  type AdvantageBuffers,
  advantageForward,
  createAdvantageBuffers,
  uploadRewards,
} from './advantage-kernel';
import { advantageStats } from './advantages';
import { type EvaluationSummary, evaluateGreedy } from './evaluate';
import { type StepMetrics, stepMetrics } from './metrics';
import {
  createPolicyLossScratch,
  LOSS_STATS_SIZE,
  lossWeights,
  parsePolicyLossStats,
  policyLoss,
} from './policy-loss';
import { type RolloutBatch, RolloutEngine, type RolloutSettings, type SearchCaller } from './rollout';
import { type HyperparameterChange, RunControl } from './run-control';
import { onScoredTokens, rewardWeightsOf, scoreBatch, trainingArrays } from './step-data';

export type { HyperparameterChange };

export interface TrainerInit {
  readonly policy: GpuGpt;
  readonly tokenizer: Tokenizer;
  readonly search: SearchCaller;
  readonly trainItems: readonly QaItem[];
  readonly heldOutItems: readonly QaItem[];
  readonly config: RunConfig;
}

/** What the heatmaps show for one step: every rollout's turn advantages, rewards and tokens. */
export interface StepSnapshot {
  readonly step: number;
  readonly batch: RolloutBatch;
  readonly aTurn: Float32Array; // (P·G, K)
  /** Per-token advantage (P·G, T), at the token it applies to (shifted back from the predicting position). */
  readonly tokenAdvantages: Float32Array;
  /**
   * Per-token log-probs (P·G, T), shifted like tokenAdvantages, read back in the step's one readback (2·P·G·T
   * floats): `logpOld` is the rollout policy's; `logpLast` the policy's at the last of the μ passes, before its
   * update (equal to logpOld when μ = 1). Meaningful on policy tokens only.
   */
  readonly logpOld: Float32Array;
  readonly logpLast: Float32Array;
  readonly rewards: ReturnType<typeof scoreBatch>['breakdowns'];
}

/** Per-batch-shape GPU buffers of the loss side (the model owns its activation arena). */
interface LossBuffers {
  readonly key: string;
  readonly logpOld: Tensor;
  readonly refLogp: Tensor;
  readonly advantages: Tensor;
  readonly actionTurn: Tensor;
  readonly actionMask: Tensor;
  readonly weights: Tensor;
  readonly stats: Tensor;
  readonly partials: Tensor;
  readonly adv: AdvantageBuffers;
}

export class Trainer {
  readonly ctx: GpuContext;
  readonly policy: GpuGpt;
  /** Rebuilt (cheaply: the KV cache is the model's arena) when a live change asks for more sequences. */
  engine: RolloutEngine;
  private readonly run: RunControl;
  private reference: GpuGpt | null = null;
  private readonly startParams: Promise<Float32Array>;
  private readonly heldOutItems: readonly QaItem[];
  private buffers: LossBuffers | null = null;

  constructor(init: TrainerInit) {
    this.run = new RunControl(init.config, init.trainItems);
    this.policy = init.policy;
    this.ctx = init.policy.ctx;
    this.heldOutItems = init.heldOutItems;
    const maxSequences = Math.max(
      init.config.promptsPerStep * init.config.rolloutsPerPrompt,
      init.config.evalQuestions,
    );
    this.engine = new RolloutEngine(init.policy, init.tokenizer, init.search, maxSequences);
    // The KL reference is the policy as it starts; its copy is made only if β ever becomes positive.
    this.startParams = init.policy.readParams();
    // Nobody awaits it unless β > 0: a device lost meanwhile must not surface as an unhandled rejection.
    this.startParams.catch(() => undefined);
  }

  get config(): RunConfig {
    return this.run.config;
  }

  get changeLog(): readonly HyperparameterChange[] {
    return this.run.changeLog;
  }

  /** RL steps completed. */
  get stepCount(): number {
    return this.run.stepCount;
  }
  set stepCount(step: number) {
    this.run.stepCount = step;
  }

  /**
   * Queues hyperparameter changes for the next step boundary. Refused as a whole (nothing changes) when a value
   * is invalid or a knob needs a fresh run (model shape, data); the error says which and why.
   */
  setHyperparameters(changes: Partial<RunConfig>): Result<Partial<RunConfig>> {
    return this.run.propose(changes);
  }

  rolloutSettings(step: number): RolloutSettings {
    return this.run.rolloutSettings(step);
  }

  private lossBuffers(n: number, T: number, P: number, G: number, K: number): LossBuffers {
    const key = `${n}x${T}x${P}x${G}x${K}`;
    if (this.buffers?.key === key) return this.buffers;
    if (this.buffers) {
      const { key: _k, adv, ...tensors } = this.buffers;
      for (const t of [...Object.values(tensors), ...Object.values(adv)]) this.ctx.destroyBuffer(t.buffer);
    }
    const t = (name: string, dtype: 'f32' | 'u32' = 'f32') => this.ctx.tensor(`rl.${name}`, [n, T], dtype);
    this.buffers = {
      key,
      logpOld: t('logpOld'),
      refLogp: t('refLogp'),
      advantages: t('advantages'),
      actionTurn: t('actionTurn', 'u32'),
      actionMask: t('actionMask', 'u32'),
      weights: t('weights'),
      stats: this.ctx.tensor('rl.lossStats', [LOSS_STATS_SIZE]),
      partials: createPolicyLossScratch(this.ctx, n * T),
      adv: createAdvantageBuffers(this.ctx, { prompts: P, rolloutsPerPrompt: G, maxTurns: K }),
    };
    return this.buffers;
  }

  private async referenceModel(): Promise<GpuGpt> {
    this.reference ??= new GpuGpt(this.ctx, this.policy.layout, await this.startParams);
    return this.reference;
  }

  /** One RL step. Returns its metrics and the snapshot the heatmaps draw. */
  async step(): Promise<{ metrics: StepMetrics; snapshot: StepSnapshot }> {
    const { step: stepNumber, config: c } = this.run.beginStep();
    const stepStart = performance.now();
    const readsBefore = this.ctx.readbacks;
    const items = this.run.nextItems(c.promptsPerStep);
    const sequences = c.promptsPerStep * c.rolloutsPerPrompt;
    if (sequences > this.engine.maxSequences) {
      this.engine.destroy();
      this.engine = new RolloutEngine(
        this.policy,
        this.engine.tokenizer,
        this.engine.search,
        Math.max(sequences, c.evalQuestions),
      );
    }
    const batch = await this.engine.generate(items, this.run.rolloutSettings(stepNumber));
    const trainStart = performance.now();
    const { P, G, K, T } = batch;
    const n = P * G;
    const { breakdowns, rewards } = scoreBatch(batch, rewardWeightsOf(c));
    const arrays = trainingArrays(batch);
    const buffers = this.lossBuffers(n, T, P, G, K);
    const modelBatch = { B: n, T, tokens: batch.tokens, targets: arrays.targets, keyMask: batch.keyMask };
    const acts = this.policy.upload(modelBatch);
    this.ctx.write(buffers.actionTurn, arrays.actionTurn);
    this.ctx.write(buffers.actionMask, arrays.actionMask);
    this.ctx.write(buffers.weights, lossWeights(arrays.actionMask, n, T, c.lossAggregation));
    uploadRewards(this.ctx, buffers.adv, rewards);
    const advantageOptions = advantageConfigSchema.parse(c);
    const shape = { prompts: P, rolloutsPerPrompt: G, maxTurns: K };
    let reference: GpuGpt | null = null;
    if (c.klCoef > 0) {
      reference = await this.referenceModel();
      const refActs = reference.upload(modelBatch);
      const enc = this.ctx.encoder('reference');
      reference.forward(enc, refActs);
      enc.copy(refActs.logp, buffers.refLogp);
      enc.submit();
    }
    const optimizer = this.run.optimizerSettings(stepNumber);
    const hyper = this.run.lossHyper();
    for (let pass = 0; pass < c.policyEpochs; pass++) {
      const enc = this.ctx.encoder(`rl-pass-${pass}`);
      this.policy.forward(enc, acts);
      if (pass === 0) {
        // The policy has not moved yet: this forward's log-probs are the rollout policy's (logp_old).
        enc.copy(acts.logp, buffers.logpOld);
        advantageForward(
          enc,
          buffers.advantages,
          buffers.adv,
          buffers.actionTurn,
          buffers.actionMask,
          shape,
          advantageOptions,
        );
      }
      policyLoss(
        enc,
        { gLogp: acts.gLogp, gEntropy: acts.gEntropy, stats: buffers.stats, partials: buffers.partials },
        {
          logp: acts.logp,
          entropy: acts.entropy,
          logpOld: buffers.logpOld,
          refLogp: reference ? buffers.refLogp : null,
          advantages: buffers.advantages,
          weights: buffers.weights,
        },
        hyper,
      );
      this.policy.backward(enc, acts);
      this.policy.optimize(enc, optimizer);
      enc.submit();
    }
    // The step's one readback: loss and gradient stats, turn and token advantages, zero-std flags, log-probs.
    const [lossStats, gradStats, tokenAdv, aTurn, groupFlags, logpOldAt, logpLastAt] =
      await this.ctx.readMany([
        buffers.stats,
        this.policy.statsTensor,
        buffers.advantages,
        buffers.adv.aTurn,
        buffers.adv.groupFlags,
        buffers.logpOld,
        acts.logp,
      ]);
    const turnStats = advantageStats(aTurn, groupFlags, rewards.turns, rewards, c.filterZeroStdGroups);
    const loss = parsePolicyLossStats(lossStats);
    const grad = GpuGpt.parseStats(gradStats);
    this.run.stepCount = stepNumber;
    const metrics = stepMetrics({
      step: stepNumber,
      config: c,
      batch,
      breakdowns,
      loss,
      advantages: turnStats,
      skipped: grad.skipped || loss.nonFiniteTokens > 0,
      gradNorm: grad.gradNorm,
      learningRate: optimizer.lr,
      times: { start: stepStart, train: trainStart, end: performance.now() },
      roundTrips: this.ctx.readbacks - readsBefore,
    });
    // Advantages and log-probs were computed at predicting positions; the heatmap wants them on the tokens
    // they score.
    return {
      metrics,
      snapshot: {
        step: stepNumber,
        batch,
        aTurn: aTurn as Float32Array,
        tokenAdvantages: onScoredTokens(tokenAdv, n, T),
        logpOld: onScoredTokens(logpOldAt, n, T),
        logpLast: onScoredTokens(logpLastAt, n, T),
        rewards: breakdowns,
      },
    };
  }

  /** Greedy held-out evaluation on the first `evalQuestions` held-out items. */
  async evaluate(): Promise<EvaluationSummary> {
    const c = this.run.config;
    const items = this.heldOutItems.slice(0, c.evalQuestions);
    const result = await evaluateGreedy(this.engine, items, this.run.rolloutSettings(0), rewardWeightsOf(c));
    return result.summary;
  }

  destroy(): void {
    this.engine.destroy();
    this.reference?.destroy();
  }
}
