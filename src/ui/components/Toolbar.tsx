// The always-visible strip: what the run is doing, and Start / Pause / Step / Reset, preset and seed.
import { KNOBS } from '../../core/config';
import { PRESETS } from '../../core/presets';
import * as actions from '../state/actions';
import { useSession, useUi } from '../state/stores';
import { usePort } from './port-context';
import { ThemeToggle } from './ThemeToggle';

const STATE_WORDS = {
  disconnected: 'Not connected',
  loading: 'Loading…',
  idle: 'Ready',
  running: 'Training',
  paused: 'Paused',
  error: 'Stopped',
} as const;

export function Toolbar() {
  const port = usePort();
  const status = useSession((s) => s.status);
  const step = useSession((s) => s.step);
  const backend = useSession((s) => s.info?.backend);
  const seed = useSession((s) => s.pending.seed ?? s.config.seed);
  const preset = useUi((s) => s.preset) ?? '';
  const ready = port !== null && status !== 'disconnected' && status !== 'loading';
  const running = status === 'running';
  return (
    <header className="toolbar">
      <h1>Turn Credit Playground</h1>
      <output className="status-pill" aria-live="polite" data-testid="run-status">
        <span className="status-dot" data-state={status} aria-hidden="true" />
        {STATE_WORDS[status]} · step <span data-testid="run-step">{step}</span>
        {backend && <span className="muted"> · {backend === 'webgpu' ? 'WebGPU' : 'CPU'}</span>}
      </output>
      <fieldset className="group run-buttons" aria-label="Run">
        {running ? (
          <button type="button" data-testid="btn-pause" onClick={() => port && actions.pause(port)}>
            Pause
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            data-testid="btn-start"
            disabled={!ready}
            onClick={() => port && actions.start(port)}
          >
            Train
          </button>
        )}
        <button
          type="button"
          data-testid="btn-step"
          disabled={!ready || running}
          onClick={() => port && actions.step(port)}
          title="Run one step, then pause"
        >
          Step
        </button>
        <button
          type="button"
          data-testid="btn-reset"
          disabled={port === null || status === 'loading'}
          onClick={() => port && actions.reset(port)}
          title="Start over from the base policy with every pending change"
        >
          Reset
        </button>
      </fieldset>
      <div className="group">
        <label htmlFor="preset-select">Preset</label>
        <select
          id="preset-select"
          data-testid="preset-select"
          value={preset}
          disabled={port === null}
          onChange={(e) => {
            if (port && e.target.value) void actions.choosePreset(port, e.target.value);
          }}
        >
          <option value="">Choose…</option>
          {PRESETS.map((p) => (
            <option key={p.name} value={p.name} title={p.description}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      <div className="group">
        <label htmlFor="knob-seed-toolbar">{KNOBS.seed.label}</label>
        <input
          id="knob-seed-toolbar"
          className="seed"
          type="number"
          inputMode="numeric"
          min={0}
          key={seed}
          defaultValue={seed}
          title={`${KNOBS.seed.help} Takes effect on Reset.`}
          onKeyDown={(e) => e.key === 'Enter' && e.currentTarget.blur()}
          onBlur={(e) => void actions.commitKnob(port, 'seed', e.currentTarget.value)}
        />
      </div>
      <span className="spacer" />
      <ThemeToggle />
    </header>
  );
}
