// The trainer worker's message protocol (DESIGN.md §7; STYLE.md after Sequence Toy): one discriminated union
// each way with namespaced literal types, request ids pairing commands with replies, and small, throttled
// events. The UI talks to the trainer only through these types; it never imports gpu/, model/ or rl/ code
// (the metric types below are type-only imports, erased at build time).
//
// Every command gets exactly one `reply` with its id. Commands that change the run (start, step, reset,
// hparams.set, checkpoint.import) take effect at the next step boundary; a step in flight always finishes.
import type { KnobKey, Result, RunConfig } from '../core/config';
import { KNOB_KEYS } from '../core/config';
import type { ModelConfig } from '../core/model-config';
import type { ChatSampling, ChatTranscript } from '../export/chat-types';
import type { EvaluationSummary } from '../rl/evaluate';
import type { StepMetrics } from '../rl/metrics';

export type RequestId = number & { readonly __brand: 'RequestId' };

// ---------------------------------------------------------------- UI → worker

export type TrainerCommand =
  /**
   * Build the sandbox and the policy: from `checkpoint` (safetensors bytes, e.g. the last persisted one), else
   * the shipped base checkpoint, else (missing, or another model shape asked for) a random initialisation —
   * RunInfo.policySource says which. `resume` continues a persisted run's step count and change log.
   * `backend: 'auto' | 'webgpu'` without WebGPU answers ok: false and emits `error` { kind: 'no-webgpu' }.
   */
  | {
      readonly type: 'run.init';
      readonly id: RequestId;
      readonly config: RunConfig;
      readonly checkpoint?: ArrayBuffer;
      readonly backend?: BackendChoice;
      readonly resume?: { readonly step: number; readonly changeLog: readonly AppliedChange[] };
      /** Enables `debug.*` commands (e2e tests only). */
      readonly testHooks?: boolean;
    }
  | { readonly type: 'run.start'; readonly id: RequestId }
  /** Cooperative: the reply comes at once, `run.status` { state: 'paused' } when the step in flight ends. */
  | { readonly type: 'run.pause'; readonly id: RequestId }
  /** One step, then paused; the reply comes after the step (refused while running). */
  | { readonly type: 'run.step'; readonly id: RequestId }
  /** Back to the starting policy with `config` (which may change knobs that need a reset); step 0. */
  | { readonly type: 'run.reset'; readonly id: RequestId; readonly config: RunConfig }
  /**
   * Queued for the next step boundary; the reply carries the pending changes or says which knob was refused
   * and why (bad value, or one that needs a reset). `hparams.applied` follows when the step uses them.
   */
  | { readonly type: 'hparams.set'; readonly id: RequestId; readonly changes: Partial<RunConfig> }
  /** Held-out greedy evaluation now (between steps); the reply and an `eval.result` event carry it. */
  | { readonly type: 'eval.run'; readonly id: RequestId }
  | { readonly type: 'checkpoint.export'; readonly id: RequestId }
  /** The policy as ONNX (src/export/onnx.ts) with the vocabulary and run config as metadata. */
  | { readonly type: 'export.onnx'; readonly id: RequestId }
  /** The words of `question` the tokenizer does not know (they would read as <unk>). */
  | { readonly type: 'chat.check'; readonly id: RequestId; readonly question: string }
  /**
   * One rollout of the live policy for a free-text question, with the run's search settings. Queued like a
   * step: while training runs it waits for the step in flight and runs before the next one.
   */
  | {
      readonly type: 'chat.ask';
      readonly id: RequestId;
      readonly question: string;
      readonly sampling: ChatSampling;
    }
  /**
   * Validated before anything changes (format, model shape, vocabulary): a corrupt or mismatched file is
   * refused with the reason and the run is untouched. Accepted, it restarts the run from those parameters.
   */
  | { readonly type: 'checkpoint.import'; readonly id: RequestId; readonly bytes: ArrayBuffer }
  /** Tests only (needs run.init's testHooks): destroys the GPU device as a driver reset would. */
  | { readonly type: 'debug.lose-device'; readonly id: RequestId };

export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

/** A command before the client gives it an id (distributes over the union, so each variant keeps its fields). */
export type CommandBody = TrainerCommand extends infer C
  ? C extends TrainerCommand
    ? Omit<C, 'id'>
    : never
  : never;

export const COMMAND_TYPES = [
  'run.init',
  'run.start',
  'run.pause',
  'run.step',
  'run.reset',
  'hparams.set',
  'eval.run',
  'checkpoint.export',
  'export.onnx',
  'chat.check',
  'chat.ask',
  'checkpoint.import',
  'debug.lose-device',
] as const satisfies readonly TrainerCommand['type'][];

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
  /** Every `checkpointEvery` steps: the policy's parameters as safetensors (the UI persists them). */
  | { readonly type: 'checkpoint.saved'; readonly step: number; readonly bytes: ArrayBuffer }
  | { readonly type: 'error'; readonly error: TrainerFailure }
  /** Every HEARTBEAT_MS while the worker lives; the client restarts a worker that stays silent. */
  | { readonly type: 'heartbeat'; readonly step: number };

export const EVENT_TYPES = [
  'reply',
  'run.ready',
  'run.status',
  'metrics.step',
  'heatmap.snapshot',
  'hparams.applied',
  'eval.result',
  'perf.timings',
  'checkpoint.saved',
  'error',
  'heartbeat',
] as const satisfies readonly TrainerEvent['type'][];

export const HEARTBEAT_MS = 2000;

export type ReplyValue =
  | {
      readonly kind: 'checkpoint';
      readonly bytes: ArrayBuffer;
      readonly config: RunConfig;
      readonly step: number;
    }
  | { readonly kind: 'onnx'; readonly bytes: ArrayBuffer; readonly step: number }
  | { readonly kind: 'chat-check'; readonly unknown: readonly string[] }
  | { readonly kind: 'chat'; readonly transcript: ChatTranscript }
  | { readonly kind: 'hparams'; readonly pending: Partial<RunConfig> }
  | { readonly kind: 'eval'; readonly summary: HeldOutSummary }
  | { readonly kind: 'imported'; readonly step: number; readonly info: RunInfo };

export type RunState = 'loading' | 'idle' | 'running' | 'paused' | 'error';

export type PolicySource = 'base-checkpoint' | 'checkpoint' | 'random-init';

export interface RunInfo {
  readonly backend: 'webgpu' | 'cpu';
  /** Adapter description, or what the CPU reference backend runs. */
  readonly adapter: string;
  readonly model: ModelConfig;
  /** The config the worker runs: the model knobs are the checkpoint's, CPU limits applied (see notes). */
  readonly config: RunConfig;
  readonly policySource: PolicySource;
  /** Things a person should know: why a random init, what the CPU fallback reduced, no search worker, … */
  readonly notes: readonly string[];
  readonly step: number;
  readonly parameterCount: number;
  readonly tokenizerVocabSize: number;
  readonly trainQuestions: number;
  readonly heldOutQuestions: number;
}

export interface AppliedChange {
  readonly step: number;
  readonly key: KnobKey;
  readonly from: unknown;
  readonly to: unknown;
}

/** The trainer's StepMetrics as plain data (see src/rl/metrics.ts); held-out results come as eval.result. */
export type StepMetricsMessage = Omit<StepMetrics, 'heldOut'>;

export type HeldOutSummary = EvaluationSummary;

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
  readonly tokens: readonly CreditToken[];
}

export interface CreditToken {
  readonly text: string;
  readonly role: 'prompt' | 'policy' | 'sandbox';
  readonly turn: number; // −1 when not a policy token
  readonly advantage: number; // 0 off policy tokens
  /** The rollout policy's log-prob of the token (NaN off policy tokens). */
  readonly logp: number;
  /** exp(logp − logp_old) at the last of the μ passes, before its update: 1 when μ = 1 (NaN off policy). */
  readonly ratio: number;
}

export interface CreditSnapshot {
  readonly step: number;
  readonly estimator: string;
  readonly G: number;
  readonly K: number;
  readonly rollouts: readonly RolloutCredit[];
  /** The same rollouts' turn advantages (P·G rows of K) under each estimator, for the side-by-side view. */
  readonly compare: Readonly<Record<'grpo-or' | 'grpo-mr' | 'mt-grpo', readonly (readonly number[])[]>>;
}

export interface PerfReport {
  readonly step: number;
  /** True on the sampled steps that ran the timestamp profiler (a pass per dispatch: slower). */
  readonly profiled: boolean;
  /** Per-kernel GPU ms (timestamp queries) on profiled steps; empty otherwise and where the adapter has none. */
  readonly kernels: readonly { readonly label: string; readonly ms: number; readonly count: number }[];
  readonly tokensPerSec: number;
  readonly gpuBytes: number;
  readonly rolloutMs: number;
  readonly toolMs: number;
  readonly trainMs: number;
  readonly stepMs: number;
}

export type TrainerFailure =
  | { readonly kind: 'no-webgpu'; readonly message: string }
  | { readonly kind: 'device-lost'; readonly message: string; readonly recovered: boolean }
  | { readonly kind: 'non-finite'; readonly message: string; readonly step: number }
  | { readonly kind: 'invalid-hparams'; readonly message: string }
  | { readonly kind: 'load'; readonly message: string }
  /** Reported by the client (trainer-client.ts), never by the worker: it died or stopped answering. */
  | { readonly kind: 'worker-crashed'; readonly message: string; readonly restarted: boolean }
  | { readonly kind: 'internal'; readonly message: string };

// ---------------------------------------------------------------- validation at the boundary

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function knownKeys(v: unknown): boolean {
  return isObject(v) && Object.keys(v).every((k) => (KNOB_KEYS as string[]).includes(k));
}

/** Checks a message arriving from the UI: its type, id and payload shapes (values are validated later). */
export function parseTrainerCommand(message: unknown): Result<TrainerCommand> {
  if (!isObject(message)) return { ok: false, error: 'a command must be an object' };
  const { type, id } = message;
  if (typeof id !== 'number' || !Number.isInteger(id))
    return { ok: false, error: 'a command needs an integer id' };
  if (!(COMMAND_TYPES as readonly unknown[]).includes(type)) {
    return { ok: false, error: `unknown command ${JSON.stringify(type)}` };
  }
  const bad = (what: string): Result<TrainerCommand> => ({ ok: false, error: `${String(type)}: ${what}` });
  if ((type === 'run.init' || type === 'run.reset') && !knownKeys(message.config))
    return bad('config is not a config');
  if (type === 'run.init' && message.checkpoint !== undefined && !(message.checkpoint instanceof ArrayBuffer))
    return bad('checkpoint must be an ArrayBuffer');
  if (type === 'hparams.set' && !knownKeys(message.changes)) return bad('changes name unknown knobs');
  if (type === 'checkpoint.import' && !(message.bytes instanceof ArrayBuffer))
    return bad('bytes must be an ArrayBuffer');
  if ((type === 'chat.ask' || type === 'chat.check') && typeof message.question !== 'string')
    return bad('question must be text');
  if (type === 'chat.ask' && !isObject(message.sampling)) return bad('sampling settings are missing');
  return { ok: true, value: message as unknown as TrainerCommand };
}

/** Checks a message arriving from the worker before the UI trusts it: type and the fields listeners read. */
export function isTrainerEvent(message: unknown): message is TrainerEvent {
  if (!isObject(message) || !(EVENT_TYPES as readonly unknown[]).includes(message.type)) return false;
  const m = message;
  switch (m.type as TrainerEvent['type']) {
    case 'reply':
      return (
        typeof m.id === 'number' &&
        typeof m.ok === 'boolean' &&
        (m.ok === true || typeof m.error === 'string')
      );
    case 'run.ready':
      return isObject(m.info) && isObject(m.info.config) && isObject(m.info.model);
    case 'run.status':
    case 'heartbeat':
      return typeof m.step === 'number';
    case 'metrics.step':
      return isObject(m.metrics) && typeof m.metrics.step === 'number';
    case 'heatmap.snapshot':
      return isObject(m.snapshot) && Array.isArray(m.snapshot.rollouts);
    case 'hparams.applied':
      return typeof m.step === 'number' && Array.isArray(m.changes);
    case 'eval.result':
      return typeof m.step === 'number' && isObject(m.summary);
    case 'perf.timings':
      return isObject(m.perf);
    case 'checkpoint.saved':
      return typeof m.step === 'number' && m.bytes instanceof ArrayBuffer;
    case 'error':
      return isObject(m.error) && typeof m.error.kind === 'string' && typeof m.error.message === 'string';
  }
}
