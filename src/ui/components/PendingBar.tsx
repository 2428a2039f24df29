// Edits that wait: how many, which need a reset, and the two ways out (Reset with them, or discard).
import { KNOB_KEYS, knobSpec } from '../../core/config';
import * as actions from '../state/actions';
import { clearPending, useSession } from '../state/stores';
import { usePort } from './port-context';

export function PendingBar() {
  const port = usePort();
  const pending = useSession((s) => s.pending);
  const keys = KNOB_KEYS.filter((k) => pending[k] !== undefined);
  const needReset = keys.filter((k) => knobSpec(k).reset);
  if (needReset.length === 0) return null;
  return (
    <div className="pending-bar" role="status" data-testid="pending-bar">
      <p>
        {needReset.map((k) => knobSpec(k).label).join(', ')} {needReset.length === 1 ? 'needs' : 'need'} a
        reset.
      </p>
      <div className="pending-actions">
        <button type="button" className="primary" onClick={() => port && actions.reset(port)}>
          Reset with changes
        </button>
        <button type="button" onClick={clearPending}>
          Discard
        </button>
      </div>
    </div>
  );
}
