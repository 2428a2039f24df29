// The zustand stores (STYLE.md): the session (what the trainer told us, changed only by events through the
// pure reducer, and by the user's pending edits), and the UI's own state (selection, theme).
import { create } from 'zustand';
import type { KnobKey, RunConfig } from '../../core/config';
import type { TrainerEvent } from '../../workers/protocol';
import { reduceEvent } from './reduce-event';
import { dismissMessage, initialSession, type Message, type SessionState, withMessage } from './session';

export const useSession = create<SessionState>()(() => initialSession());

/** Feeds one trainer event through the reducer into the store (the client's onEvent listener). */
export function applyEvent(event: TrainerEvent): void {
  useSession.setState((s) => reduceEvent(s, event), true);
}

export function report(message: Omit<Message, 'id'>): void {
  useSession.setState((s) => withMessage(s, message), true);
}

export function dismiss(id: number): void {
  useSession.setState((s) => dismissMessage(s, id), true);
}

export type ThemeChoice = 'system' | 'light' | 'dark';

export interface UiState {
  readonly theme: ThemeChoice;
  readonly systemDark: boolean;
  /** Index into the viewed snapshot's rollouts: the row shown in the token view and the compare view. */
  readonly selectedRollout: number;
  /** Step of the snapshot being viewed; null follows the newest. */
  readonly viewedStep: number | null;
  /** Knob text that did not validate, shown next to the input until corrected. */
  readonly knobErrors: Readonly<Partial<Record<KnobKey, string>>>;
  /** The paper comparison in progress: which estimator of the three is running. */
  readonly comparison: { readonly index: number; readonly label: string } | null;
  /** The preset the run started from (for the shareable URL), null once knobs diverge from it is fine. */
  readonly preset: string | null;
  /** A stored run the page can resume after a reload (main.tsx finds it; the banner offers it). */
  readonly resumeOffer: ResumeOffer | null;
}

export interface ResumeOffer {
  readonly label: string;
  readonly step: number;
  readonly resume: () => Promise<void>;
}

export const useUi = create<UiState>()(() => ({
  theme: 'system',
  systemDark: false,
  selectedRollout: 0,
  viewedStep: null,
  knobErrors: {},
  comparison: null,
  preset: null,
  resumeOffer: null,
}));

export function effectiveTheme(ui: Pick<UiState, 'theme' | 'systemDark'>): 'light' | 'dark' {
  return ui.theme === 'system' ? (ui.systemDark ? 'dark' : 'light') : ui.theme;
}

export function setKnobError(key: KnobKey, error: string | null): void {
  useUi.setState((s) => {
    const knobErrors = { ...s.knobErrors };
    if (error === null) delete knobErrors[key];
    else knobErrors[key] = error;
    return { knobErrors };
  });
}

/** Records an edit as pending, or clears it when it equals what the trainer runs with. */
export function setPending<K extends KnobKey>(key: K, value: RunConfig[K]): void {
  useSession.setState((s) => {
    const pending: { -readonly [P in KnobKey]?: RunConfig[P] } = { ...s.pending };
    if (s.config[key] === value) delete pending[key];
    else pending[key] = value;
    return { pending };
  });
}

export function clearPending(): void {
  useSession.setState({ pending: {} });
}
