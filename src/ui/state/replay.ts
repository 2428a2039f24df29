// A stored run's history (IndexedDB, written by src/ui/client/persistence.ts) replayed through the reducer as
// the events that produced it, so a resumed run's charts and markers continue where they stopped.
import type { AppliedChange, HeldOutSummary, StepMetricsMessage } from '../../workers/protocol';
import { applyEvent } from './stores';

export interface StoredHistory {
  readonly metrics: readonly StepMetricsMessage[];
  readonly evals: readonly { readonly step: number; readonly summary: HeldOutSummary }[];
  readonly changeLog: readonly AppliedChange[];
}

/** Replays steps ≤ upTo (the checkpoint the worker resumes from; later steps will be trained again). */
export function replayHistory(history: StoredHistory, upTo: number): void {
  const byStep = new Map<number, AppliedChange[]>();
  for (const c of history.changeLog) byStep.set(c.step, [...(byStep.get(c.step) ?? []), c]);
  for (const m of history.metrics) {
    if (m.step > upTo) break;
    const changes = byStep.get(m.step);
    if (changes) applyEvent({ type: 'hparams.applied', step: m.step, changes });
    applyEvent({ type: 'metrics.step', metrics: m });
    for (const e of history.evals) if (e.step === m.step) applyEvent({ type: 'eval.result', ...e });
  }
}
