// The playground's entry: one trainer client (the worker owns the model and the GPU), the stores fed by its
// events, and the theme mirrored onto <html>. Training never runs on this thread.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { TrainerClient } from './ui/client/trainer-client';
import { App } from './ui/components/App';
import { connect } from './ui/state/actions';
import { effectiveTheme, type ThemeChoice, useUi } from './ui/state/stores';

const THEME_KEY = 'turn-credit-playground.theme';

function watchTheme(): void {
  const dark = matchMedia('(prefers-color-scheme: dark)');
  const saved = readSavedTheme();
  useUi.setState({ systemDark: dark.matches, ...(saved ? { theme: saved } : {}) });
  dark.addEventListener('change', (e) => useUi.setState({ systemDark: e.matches }));
  const apply = () => {
    const ui = useUi.getState();
    document.documentElement.dataset.theme = effectiveTheme(ui);
    try {
      localStorage.setItem(THEME_KEY, ui.theme);
    } catch {
      // Storage can be disabled (private windows); the theme then lasts for this page only.
    }
  };
  apply();
  useUi.subscribe(apply);
}

function readSavedTheme(): ThemeChoice | null {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' || v === 'system' ? v : null;
  } catch {
    return null;
  }
}

watchTheme();
const client = new TrainerClient();
connect(client);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App port={client} />
  </StrictMode>,
);
