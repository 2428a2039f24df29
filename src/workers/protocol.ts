// The trainer worker's message protocol (DESIGN.md §7; STYLE.md after Sequence Toy): one discriminated union
// each way with namespaced literal types, request ids pairing commands with replies, and small, throttled
// events. The UI talks to the trainer only through these types; it never imports gpu/, model/ or rl/ code.
import type { KnobKey, RunConfig } from '../core/config';
import type { ModelConfig } from '../core/model-config';

export type RequestId = number & { readonly __brand: 'RequestId' };

// ---------------------------------------------------------------- UI → worker

export type TrainerCommand =
  /** Build the policy (fresh from the shipped base checkpoint, or from `checkpoint`) and the sandbox. */
  | {
      readonly type: 'run.init';
      readonly id: RequestId;
      readonly config: RunConfig;
      readonly checkpoint?: ArrayBuffer;
      readonly backend?: BackendChoice;
    }
  | { readonly type: 'run.start'; readonly id: RequestId }
  /** Cooperative: takes effect at the next step boundary. */
  | { readonly type: 'run.pause'; readonly id: RequestId }
  /** One step, then paused. */
  | { readonly type: 'run.step'; readonly id: RequestId }
  /** Back to the starting policy with `config` (which may change knobs that need a reset). */
  | { readonly type: 'run.reset'; readonly id: RequestId; readonly config: RunConfig }
  /** Applied at the next step boundary; answered with the validated changes or the reason they were refused. */
  | { readonly type: 'hparams.set'; readonly id: RequestId; readonly changes: Partial<RunConfig> }
  | { readonly type: 'eval.run'; readonly id: RequestId }
  | { readonly type: 'checkpoint.export'; readonly id: RequestId }
  /** Validated before anything changes: a corrupt or mismatched file is refused and the run is untouched. */
  | { readonly type: 'checkpoint.import'; readonly id: RequestId; readonly bytes: ArrayBuffer };

export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

// ---------------------------------------------------------------- worker → UI

export type TrainerEvent =
  | { readonly type: 'reply'; readonly id: RequestId; readonly ok: true; readonly value?: ReplyValue }
  | { readonly type: 'reply'; readonly id: RequestId; readonly ok: false; readonly error: string }
  | { readonly type: 'run.ready'; readonly info: RunInfo }
  | { readonly type: 'run.status'; readonly state: RunState; readonly step: number }
  | { readonly type: 'metrics.step'; readonly metrics: StepMetricsMessage }
  | { readonly type: 'heatmap.snapshot'; readonly snapshot: CreditSnapshot }
  | { readonly type: 'hparams.applied'; readonly step: number; readonly changes: readonly AppliedChange[] }
  | { readonly type: 'eval.result'; readonly step: number; readonly summary: HeldOutSummary }
  | { readonly type: 'perf.timings'; readonly perf: PerfReport }
  | { readonly type: 'checkpoint.saved'; readonly step: number; readonly bytes: ArrayBuffer }
  | { readonly type: 'error'; readonly error: TrainerFailure };

export type ReplyValue =
  | {
      readonly kind: 'checkpoint';
      readonly bytes: ArrayBuffer;
      readonly config: RunConfig;
      readonly step: number;
    }
  | { readonly kind: 'hparams'; readonly pending: Partial<RunConfig> };

export type RunState = 'loading' | 'idle' | 'running' | 'paused' | 'error';

export interface RunInfo {
  readonly backend: 'webgpu' | 'cpu';
  /** Adapter description, or why the CPU reference backend is in use. */
  readonly adapter: string;
  readonly model: ModelConfig;
  readonly parameterCount: number;
  readonly tokenizerVocabSize: number;
  readonly trainQuestions: number;
  readonly heldOutQuestions: number;
}

export interface AppliedChange {
  readonly key: KnobKey;
  readonly from: unknown;
  readonly to: unknown;
}

/** The trainer's StepMetrics, as plain data (see src/rl/metrics.ts for each field's meaning). */
export type StepMetricsMessage = Readonly<Record<string, number | boolean | readonly number[]>> & {
  readonly step: number;
};

export interface HeldOutSummary {
  readonly questions: number;
  readonly toolCallRate: number;
  readonly toolSuccessRate: number;
  readonly exactMatch: number;
}

/** One rollout's row in the credit heatmap. */
export interface RolloutCredit {
  readonly prompt: number; // group index p
  readonly question: string;
  readonly answers: readonly string[];
  /** Per policy turn: its advantage under the run's estimator and the rewards that produced it. */
  readonly turns: readonly {
    readonly advantage: number;
    readonly toolExecution: number;
    readonly answerInResults: number;
    readonly text: string;
  }[];
  readonly outcome: {
    readonly answerContained: number;
    readonly exactMatch: number;
    readonly format: number;
    readonly xmlTags: number;
  };
  /** Every token of the transcript, in order; model output is text, never markup. */
  readonly tokens: readonly {
    readonly text: string;
    readonly role: 'prompt' | 'policy' | 'sandbox';
    readonly turn: number; // −1 when not a policy token
    readonly advantage: number; // 0 off policy tokens
    readonly logp: number; // the policy's log-prob of the token (NaN off policy tokens)
    readonly ratio: number; // exp(logp_new − logp_old) after the update (NaN off policy tokens)
  }[];
}

export interface CreditSnapshot {
  readonly step: number;
  readonly estimator: string;
  readonly G: number;
  readonly K: number;
  readonly rollouts: readonly RolloutCredit[];
  /** The same rollouts' turn advantages (P·G, K) under each estimator, for the side-by-side view. */
  readonly compare: Readonly<Record<'grpo-or' | 'grpo-mr' | 'mt-grpo', readonly (readonly number[])[]>>;
}

export interface PerfReport {
  readonly step: number;
  /** Per-kernel GPU ms (timestamp queries), empty where the adapter has none. */
  readonly kernels: readonly { readonly label: string; readonly ms: number }[];
  readonly tokensPerSec: number;
  readonly gpuBytes: number;
  readonly rolloutMs: number;
  readonly toolMs: number;
  readonly trainMs: number;
}

export type TrainerFailure =
  | { readonly kind: 'no-webgpu'; readonly message: string }
  | { readonly kind: 'device-lost'; readonly message: string; readonly recovered: boolean }
  | { readonly kind: 'non-finite'; readonly message: string; readonly step: number }
  | { readonly kind: 'invalid-hparams'; readonly message: string }
  | { readonly kind: 'load'; readonly message: string }
  | { readonly kind: 'internal'; readonly message: string };

/** Validates a message arriving from the other side; never casts blindly (STYLE.md). */
export function isTrainerCommand(message: unknown): message is TrainerCommand {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as { type?: unknown; id?: unknown };
  if (typeof m.id !== 'number') return false;
  return (
    typeof m.type === 'string' &&
    [
      'run.init',
      'run.start',
      'run.pause',
      'run.step',
      'run.reset',
      'hparams.set',
      'eval.run',
      'checkpoint.export',
      'checkpoint.import',
    ].includes(m.type)
  );
}
