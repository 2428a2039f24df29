// Light / dark / follow the system. The choice lives in the UI store; main.tsx mirrors it onto <html>.
import { type ThemeChoice, useUi } from '../state/stores';

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
const WORDS: Record<ThemeChoice, string> = { system: 'Auto', light: 'Light', dark: 'Dark' };

export function ThemeToggle() {
  const theme = useUi((s) => s.theme);
  return (
    <button
      type="button"
      data-testid="theme-toggle"
      aria-label={`Theme: ${WORDS[theme]}. Switch to ${WORDS[NEXT[theme]]}.`}
      onClick={() => useUi.setState({ theme: NEXT[theme] })}
    >
      <span aria-hidden="true">{theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}</span> {WORDS[theme]}
    </button>
  );
}
