// What the playground knows about the run, as one plain value: the reducer (reduce-event.ts) turns trainer
// events into a new SessionState, and the zustand store (stores.ts) holds the current one.
import { DEFAULT_CONFIG, type RunConfig } from '../../core/config';
import { presetConfig } from '../../core/presets';
import type {
  AppliedChange,
  CreditSnapshot,
  PerfReport,
  RunInfo,
  RunState,
  TrainerFailure,
} from '../../workers/protocol';
import { emptyTable, type SeriesTable } from './series';

/** Snapshots kept for the step scrubber; each is a few tens of kB, so 60 stay well under 5 MB. */
export const CREDIT_HISTORY = 60;
/** The live run plus four kept runs overlay on every chart. */
export const MAX_RUNS = 5;

export interface Marker {
  readonly step: number;
  readonly changes: readonly AppliedChange[];
}

export interface RunRecord {
  readonly id: number;
  readonly label: string;
  readonly config: RunConfig;
  /** One row per step: every numeric field of StepMetrics (arrays summed, and per index as `key@k`). */
  readonly series: SeriesTable;
  /** One row per held-out evaluation: exactMatch, toolCallRate, toolSuccessRate. */
  readonly heldOut: SeriesTable;
  readonly markers: readonly Marker[];
}

export type MessageKind = TrainerFailure['kind'] | 'command' | 'info';

export interface Message {
  readonly id: number;
  readonly kind: MessageKind;
  readonly text: string;
  readonly step?: number;
  /** device-lost: whether the worker rebuilt the device and carries on. */
  readonly recovered?: boolean;
}

export type ConnectionState = RunState | 'disconnected';

export interface SessionState {
  readonly status: ConnectionState;
  readonly step: number;
  readonly info: RunInfo | null;
  /** The config the trainer runs with (updated by hparams.applied). */
  readonly config: RunConfig;
  /** Edits the trainer has not applied yet: live knobs until the next step boundary, reset knobs until Reset. */
  readonly pending: Partial<RunConfig>;
  readonly live: RunRecord;
  /** Kept runs, oldest first; with the live run at most MAX_RUNS. */
  readonly kept: readonly RunRecord[];
  /** Credit snapshots, oldest first, at most CREDIT_HISTORY. */
  readonly credit: readonly CreditSnapshot[];
  readonly perf: PerfReport | null;
  readonly lastCheckpointStep: number | null;
  readonly messages: readonly Message[];
  readonly nextId: number;
}

export function initialConfig(): RunConfig {
  const paper = presetConfig('paper-mt-grpo');
  return paper.ok ? paper.value : DEFAULT_CONFIG;
}

export function runLabel(config: RunConfig): string {
  return `${config.advantageEstimator.toUpperCase()} · seed ${config.seed}`;
}

export function newRecord(id: number, config: RunConfig): RunRecord {
  return { id, label: runLabel(config), config, series: emptyTable(), heldOut: emptyTable(), markers: [] };
}

export function initialSession(config: RunConfig = initialConfig()): SessionState {
  return {
    status: 'disconnected',
    step: 0,
    info: null,
    config,
    pending: {},
    live: newRecord(1, config),
    kept: [],
    credit: [],
    perf: null,
    lastCheckpointStep: null,
    messages: [],
    nextId: 2,
  };
}

/** Adds a message, folding a repeat of the newest one (a NaN every step must not flood the list). */
export function withMessage(state: SessionState, message: Omit<Message, 'id'>): SessionState {
  const newest = state.messages[state.messages.length - 1];
  if (newest && newest.kind === message.kind && newest.text === message.text) return state;
  const messages = [...state.messages, { ...message, id: state.nextId }].slice(-8);
  return { ...state, messages, nextId: state.nextId + 1 };
}

export function dismissMessage(state: SessionState, id: number): SessionState {
  return { ...state, messages: state.messages.filter((m) => m.id !== id) };
}
