// The live run's metrics as the trainer sent them, for the CSV/JSON downloads (the stores keep flattened
// typed-array series for the charts, which is not what a spreadsheet wants). A run that rolls back (a resumed
// or crash-restarted worker repeats steps) drops the steps it will send again; a reset starts a fresh record.
import { DEFAULT_CONFIG, type RunConfig } from '../../core/config';
import type { AppliedChange, HeldOutSummary, StepMetricsMessage, TrainerEvent } from '../../workers/protocol';
import type { RunExport } from './export';

export class RunRecorder {
  private config: RunConfig = DEFAULT_CONFIG;
  private metrics: StepMetricsMessage[] = [];
  private evals: { step: number; summary: HeldOutSummary }[] = [];
  private changeLog: AppliedChange[] = [];

  constructor(port: { onEvent(listener: (event: TrainerEvent) => void): () => void }) {
    port.onEvent((event) => this.record(event));
  }

  get steps(): number {
    return this.metrics.length;
  }

  snapshot(): RunExport {
    return {
      config: this.config,
      metrics: [...this.metrics],
      evals: [...this.evals],
      changeLog: [...this.changeLog],
    };
  }

  private record(event: TrainerEvent): void {
    switch (event.type) {
      case 'run.ready':
        this.config = event.info.config;
        if (event.info.step === 0) this.clear();
        else this.rollBack(event.info.step + 1);
        break;
      case 'metrics.step':
        this.rollBack(event.metrics.step);
        this.metrics.push(event.metrics);
        break;
      case 'eval.result':
        this.evals = this.evals.filter((e) => e.step < event.step);
        this.evals.push({ step: event.step, summary: event.summary });
        break;
      case 'hparams.applied':
        this.changeLog.push(...event.changes);
        this.config = { ...this.config, ...Object.fromEntries(event.changes.map((c) => [c.key, c.to])) };
        break;
      default:
        break;
    }
  }

  private clear(): void {
    this.metrics = [];
    this.evals = [];
    this.changeLog = [];
  }

  /** Forgets what was recorded from `step` on: those steps are about to be sent again. */
  private rollBack(step: number): void {
    this.metrics = this.metrics.filter((m) => m.step < step);
    this.evals = this.evals.filter((e) => e.step < step);
    this.changeLog = this.changeLog.filter((c) => c.step < step);
  }
}
