// Every knob of the table, grouped; generated, so a new knob appears here without UI code.
import { useEffect, useState } from 'react';
import { GROUP_ORDER, knobsOf } from '../view/knobs';
import { KnobField } from './KnobField';
import { PendingBar } from './PendingBar';

const wide = () => typeof matchMedia === 'function' && matchMedia('(min-width: 901px)').matches;

export function KnobPanel() {
  // On a phone the knobs start folded so the views come first; on a desktop they are a sidebar.
  const [open, setOpen] = useState(wide);
  // Crossing the breakpoint (a rotated phone, a resized window) folds or unfolds them again.
  useEffect(() => {
    const query = matchMedia('(min-width: 901px)');
    const follow = (e: MediaQueryListEvent) => setOpen(e.matches);
    query.addEventListener('change', follow);
    return () => query.removeEventListener('change', follow);
  }, []);
  return (
    <details
      className="sidebar panel"
      open={open}
      onToggle={(e) => setOpen(e.currentTarget.open)}
      data-testid="knob-panel"
    >
      <summary>Hyperparameters</summary>
      <h2 className="sidebar-title">Hyperparameters</h2>
      <p className="explain">
        Changes apply at the next step boundary and appear as a marker on every chart. Knobs marked{' '}
        <em>requires reset</em> wait for Reset.
      </p>
      <PendingBar />
      {GROUP_ORDER.map(({ group, title }) => (
        <details key={group} className="knob-group" open={group !== 'model' && group !== 'run'}>
          <summary>{title}</summary>
          <div className="knob-list">
            {knobsOf(group).map((k) => (
              <KnobField key={k} knob={k} />
            ))}
          </div>
        </details>
      ))}
    </details>
  );
}
