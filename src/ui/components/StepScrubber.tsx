// Moves the credit views back through the kept snapshots; "Latest" follows training again.
import type { CreditSnapshot } from '../../workers/protocol';
import { useUi } from '../state/stores';

export function StepScrubber({ history, shown }: { history: readonly CreditSnapshot[]; shown: number }) {
  const following = useUi((s) => s.viewedStep === null);
  const index = Math.max(
    0,
    history.findIndex((s) => s.step === shown),
  );
  return (
    <div className="scrubber">
      <label htmlFor="step-scrubber">
        Step <strong>{shown}</strong>
        <span className="muted"> ({history.length} kept)</span>
      </label>
      <input
        id="step-scrubber"
        data-testid="step-scrubber"
        type="range"
        min={0}
        max={Math.max(0, history.length - 1)}
        value={index}
        disabled={history.length < 2}
        aria-valuetext={`step ${shown}`}
        onChange={(e) => {
          const i = Number(e.currentTarget.value);
          useUi.setState({ viewedStep: i === history.length - 1 ? null : history[i].step });
        }}
      />
      <button type="button" disabled={following} onClick={() => useUi.setState({ viewedStep: null })}>
        Latest
      </button>
    </div>
  );
}
