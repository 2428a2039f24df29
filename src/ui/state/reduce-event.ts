// The one place trainer events change what the UI knows: a pure reducer, (state, event) → state, with an
// exhaustive switch over the protocol's union (a new event type fails to compile until it is handled here).
import { type KnobKey, parseRunConfig, type RunConfig } from '../../core/config';
import type {
  AppliedChange,
  CreditSnapshot,
  StepMetricsMessage,
  TrainerEvent,
  TrainerFailure,
} from '../../workers/protocol';
import { appendRow, lastStep } from './series';
import { CREDIT_HISTORY, newRecord, type SessionState, withMessage } from './session';

export function reduceEvent(state: SessionState, event: TrainerEvent): SessionState {
  switch (event.type) {
    case 'reply':
      // The client settles the promise of the command this answers; the caller reports a refusal
      // (actions.ts), so reporting it here too would show it twice.
      return state;
    case 'run.ready':
      return withNotes(
        {
          ...state,
          info: event.info,
          // The worker's config is the truth: the model knobs are the checkpoint's, CPU limits applied.
          config: event.info.config,
          step: event.info.step,
          status: state.status === 'disconnected' || state.status === 'loading' ? 'idle' : state.status,
        },
        event.info.notes,
      );
    case 'run.status':
      return { ...state, status: event.state, step: event.step };
    case 'metrics.step':
      return addMetrics(state, event.metrics);
    case 'heatmap.snapshot':
      return { ...state, credit: addSnapshot(state.credit, event.snapshot) };
    case 'hparams.applied':
      return applyChanges(state, event.step, event.changes);
    case 'eval.result': {
      const { exactMatch, toolCallRate, toolSuccessRate } = event.summary;
      const heldOut = appendRow(state.live.heldOut, event.step, {
        exactMatch,
        toolCallRate,
        toolSuccessRate,
      });
      return { ...state, live: { ...state.live, heldOut } };
    }
    case 'perf.timings':
      return { ...state, perf: event.perf };
    case 'checkpoint.saved':
      return { ...state, lastCheckpointStep: event.step };
    case 'error':
      return addFailure(state, event.error);
    case 'heartbeat':
      // The client watches heartbeats to restart a silent worker; for the UI they only carry the step.
      return event.step === state.step ? state : { ...state, step: event.step };
    default:
      return assertNever(event);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled case ${JSON.stringify(value)}`);
}

/** Numbers as they are, booleans as 0/1, arrays (per turn) as their sum and per index as `key@k`. */
export function flattenMetrics(metrics: StepMetricsMessage): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics)) {
    if (key === 'step') continue;
    if (typeof value === 'number') out[key] = value;
    else if (typeof value === 'boolean') out[key] = value ? 1 : 0;
    else if (Array.isArray(value)) {
      let sum = 0;
      value.forEach((v, k) => {
        out[`${key}@${k}`] = v;
        sum += v;
      });
      out[key] = sum;
    }
  }
  return out;
}

function addMetrics(state: SessionState, metrics: StepMetricsMessage): SessionState {
  const previous = lastStep(state.live.series);
  // A step at or before the last one means the trainer started over (reset, another preset): new record.
  const live =
    previous !== null && metrics.step <= previous ? newRecord(state.nextId, state.config) : state.live;
  const series = appendRow(live.series, metrics.step, flattenMetrics(metrics));
  // run.status is sent on state changes only: while running, the step counter follows the metrics.
  return {
    ...state,
    step: metrics.step,
    live: { ...live, series },
    nextId: live === state.live ? state.nextId : state.nextId + 1,
  };
}

export function addSnapshot(
  history: readonly CreditSnapshot[],
  snapshot: CreditSnapshot,
): readonly CreditSnapshot[] {
  const newest = history[history.length - 1];
  const kept = newest && snapshot.step <= newest.step ? [] : history;
  return [...kept, snapshot].slice(-CREDIT_HISTORY);
}

function withNotes(state: SessionState, notes: readonly string[]): SessionState {
  return notes
    .filter((note) => !state.messages.some((m) => m.kind === 'info' && m.text === note))
    .reduce((s, note) => withMessage(s, { kind: 'info', text: note }), state);
}

function applyChanges(state: SessionState, step: number, changes: readonly AppliedChange[]): SessionState {
  const updates: Record<string, unknown> = {};
  for (const c of changes) updates[c.key] = c.to;
  const parsed = parseRunConfig({ ...state.config, ...updates });
  const pending: { -readonly [K in KnobKey]?: RunConfig[K] } = { ...state.pending };
  for (const c of changes) if (pending[c.key] === c.to) delete pending[c.key];
  const markers = changes.length > 0 ? [...state.live.markers, { step, changes }] : state.live.markers;
  const next = { ...state, pending, live: { ...state.live, markers } };
  if (parsed.ok) return { ...next, config: parsed.value };
  // The worker validated these already; disagreeing is a bug worth seeing, not a reason to drop the marker.
  return withMessage(next, {
    kind: 'internal',
    text: `Applied changes do not validate: ${parsed.error}`,
    step,
  });
}

function addFailure(state: SessionState, failure: TrainerFailure): SessionState {
  switch (failure.kind) {
    case 'no-webgpu':
      return withMessage({ ...state, status: 'error' }, { kind: failure.kind, text: failure.message });
    case 'device-lost':
      return withMessage(
        { ...state, status: failure.recovered ? state.status : 'error' },
        { kind: failure.kind, text: failure.message, recovered: failure.recovered },
      );
    case 'non-finite':
      return withMessage(state, { kind: failure.kind, text: failure.message, step: failure.step });
    case 'worker-crashed':
      return withMessage(
        { ...state, status: failure.restarted ? 'loading' : 'error' },
        { kind: failure.kind, text: failure.message, recovered: failure.restarted },
      );
    case 'invalid-hparams':
    case 'load':
    case 'internal':
      return withMessage(state, { kind: failure.kind, text: failure.message });
    default:
      return assertNever(failure);
  }
}
