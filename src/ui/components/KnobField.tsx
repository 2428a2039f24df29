// One knob: label, input, help with the valid range, and its state (pending, needs reset, invalid).
import { memo } from 'react';
import { describeRange, type KnobKey, knobSpec } from '../../core/config';
import { commitKnob } from '../state/actions';
import { useSession, useUi } from '../state/stores';
import { formatKnobValue } from '../view/format';
import { knobControl } from '../view/knobs';
import { usePort } from './port-context';

export const KnobField = memo(function KnobField({ knob }: { knob: KnobKey }) {
  const port = usePort();
  const spec = knobSpec(knob);
  const control = knobControl(knob);
  const applied = useSession((s) => s.config[knob]);
  const pending = useSession((s) => s.pending[knob]);
  const error = useUi((s) => s.knobErrors[knob]);
  const value = pending ?? applied;
  const id = `knob-input-${knob}`;
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const commit = (text: string) => void commitKnob(port, knob, text);
  const common = {
    id,
    'data-testid': `knob-${knob}`,
    'aria-describedby': error ? `${helpId} ${errorId}` : helpId,
    'aria-invalid': error ? true : undefined,
  };
  return (
    <div className="knob" data-pending={pending !== undefined || undefined}>
      <div className="knob-head">
        <label htmlFor={id}>{spec.label}</label>
        {spec.reset && <span className="badge reset">requires reset</span>}
        {pending !== undefined && (
          <span className="badge pending" title={`Running with ${formatKnobValue(applied)}`}>
            {spec.reset ? 'on Reset' : 'next step'}
          </span>
        )}
      </div>
      {control.kind === 'boolean' ? (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(e) => commit(String(e.currentTarget.checked))}
        />
      ) : control.kind === 'enum' ? (
        <select {...common} value={String(value)} onChange={(e) => commit(e.currentTarget.value)}>
          {control.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input
          {...common}
          // Remount when the store's value changes so the field shows what the trainer runs with.
          key={String(value)}
          type="text"
          inputMode="decimal"
          spellCheck={false}
          autoComplete="off"
          defaultValue={formatKnobValue(value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit(e.currentTarget.value);
            if (e.key === 'Escape') e.currentTarget.value = formatKnobValue(value);
          }}
          onBlur={(e) => {
            if (e.currentTarget.value !== formatKnobValue(value)) commit(e.currentTarget.value);
          }}
        />
      )}
      <p className="knob-help" id={helpId}>
        {spec.help} <span className="range">({describeRange(knob)})</span>
      </p>
      {error && (
        <p className="knob-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
});
