// What the trainer session drives, whichever backend runs it: the GPU Trainer (src/rl/trainer.ts), or the CPU
// reference fallback (cpu-engine.ts). The session (trainer-session.ts) only sees this interface.
import type { Result, RunConfig } from '../core/config';
import { type GpuContext, Profiler } from '../gpu/context';
import { GpuGpt } from '../model/gpt';
import type { ParamLayout } from '../model/layout';
import type { EvaluationSummary } from '../rl/evaluate';
import type { StepMetrics } from '../rl/metrics';
import type { SearchCaller } from '../rl/search-caller';
import { type HyperparameterChange, Trainer } from '../rl/trainer';
import type { OpenCorpus } from '../sandbox/load';
import type { Tokenizer } from '../sandbox/tokenizer';
import type { QaItem } from '../sandbox/types';
import type { StepCredit } from './credit-snapshot';

export interface EngineStep {
  readonly metrics: StepMetrics;
  readonly credit: StepCredit;
  /** Per-kernel GPU ms when the step was profiled (timestamp queries), else empty. */
  readonly kernels: readonly { readonly label: string; readonly ms: number; readonly count: number }[];
}

export interface PolicyEngine {
  readonly backend: 'webgpu' | 'cpu';
  readonly layout: ParamLayout;
  readonly config: RunConfig;
  readonly changeLog: readonly HyperparameterChange[];
  /** RL steps completed; settable so a resumed run continues its numbering. */
  stepCount: number;
  setHyperparameters(changes: Partial<RunConfig>): Result<Partial<RunConfig>>;
  step(profile: boolean): Promise<EngineStep>;
  evaluate(): Promise<EvaluationSummary>;
  readParams(): Promise<Float32Array>;
  /** Bytes the backend holds for the model and its buffers (GPU: ctx.allocatedBytes). */
  memoryBytes(): number;
  destroy(): void;
}

export function splitQuestions(corpus: OpenCorpus, config: RunConfig, split: QaItem['split']): QaItem[] {
  return corpus.artifacts.qa.filter(
    (q) => q.split === split && (config.questionFamily === 'mixed' || q.family === config.questionFamily),
  );
}

export class GpuEngine implements PolicyEngine {
  readonly backend = 'webgpu';
  readonly trainer: Trainer;
  private readonly ctx: GpuContext;
  private readonly profiler: Profiler | null;

  constructor(trainer: Trainer) {
    this.trainer = trainer;
    this.ctx = trainer.ctx;
    // One profiler for the run, switched on only for sampled steps: it puts every dispatch in a pass of its
    // own, which is slower, so ordinary steps run without it.
    this.profiler = trainer.ctx.device.features.has('timestamp-query')
      ? new Profiler(trainer.ctx.device)
      : null;
    this.ctx.profiler = null;
  }

  get layout(): ParamLayout {
    return this.trainer.policy.layout;
  }
  get config(): RunConfig {
    return this.trainer.config;
  }
  get changeLog(): readonly HyperparameterChange[] {
    return this.trainer.changeLog;
  }
  get stepCount(): number {
    return this.trainer.stepCount;
  }
  set stepCount(step: number) {
    this.trainer.stepCount = step;
  }

  setHyperparameters(changes: Partial<RunConfig>): Result<Partial<RunConfig>> {
    // More sequences than the rollout engine was built for is fine: the trainer rebuilds it at the boundary.
    return this.trainer.setHyperparameters(changes);
  }

  async step(profile: boolean): Promise<EngineStep> {
    const profiler = profile ? this.profiler : null;
    profiler?.reset();
    this.ctx.profiler = profiler;
    try {
      const { metrics, snapshot } = await this.trainer.step();
      const kernels = profiler ? await profiler.report() : [];
      return { metrics, credit: snapshot, kernels };
    } finally {
      this.ctx.profiler = null;
    }
  }

  evaluate(): Promise<EvaluationSummary> {
    return this.trainer.evaluate();
  }

  readParams(): Promise<Float32Array> {
    return this.trainer.policy.readParams();
  }

  memoryBytes(): number {
    return this.ctx.allocatedBytes;
  }

  destroy(): void {
    this.trainer.destroy();
    this.trainer.engine.destroy();
    this.trainer.policy.destroy();
  }
}

/** The pieces both engines are built from (the trainer session's and `npm run train`'s). */
export interface EngineInputs {
  readonly tokenizer: Tokenizer;
  readonly search: SearchCaller;
  readonly config: RunConfig;
  readonly layout: ParamLayout;
  readonly params: Float32Array;
  readonly trainItems: readonly QaItem[];
  readonly heldOutItems: readonly QaItem[];
}

/** The WebGPU engine: the policy on `ctx`, and the RL Trainer around it. */
export async function createGpuEngine(ctx: GpuContext, inputs: EngineInputs): Promise<GpuEngine> {
  const { tokenizer, search, config, trainItems, heldOutItems } = inputs;
  const policy = await GpuGpt.create(ctx, inputs.layout, inputs.params);
  return new GpuEngine(new Trainer({ policy, tokenizer, search, trainItems, heldOutItems, config }));
}
