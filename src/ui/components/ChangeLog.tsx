// The run log of hyperparameter changes: the text behind the chart markers.
import { knobSpec } from '../../core/config';
import { useSession } from '../state/stores';
import { formatKnobValue } from '../view/format';

export function ChangeLog() {
  const markers = useSession((s) => s.live.markers);
  if (markers.length === 0) return null;
  return (
    <details className="change-log" open data-testid="change-log">
      <summary>Changes in this run ({markers.length})</summary>
      <ol>
        {markers.flatMap((m) =>
          m.changes.map((c) => (
            <li key={`${m.step}-${c.key}`}>
              step {m.step}: {knobSpec(c.key).label} {formatKnobValue(c.from)} → {formatKnobValue(c.to)}
            </li>
          )),
        )}
      </ol>
    </details>
  );
}
