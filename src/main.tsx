// The playground's entry: one trainer client (the worker owns the model and the GPU; training never runs on
// this thread), the stores fed by its events, the URL and IndexedDB glue (src/ui/client/playground.ts), and
// the theme mirrored onto <html>.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { attachPlayground, type Playground } from './ui/client/playground';
import { TrainerClient } from './ui/client/trainer-client';
import { App } from './ui/components/App';
import { connect } from './ui/state/actions';
import { replayHistory } from './ui/state/replay';
import { effectiveTheme, report, type ThemeChoice, useSession, useUi } from './ui/state/stores';
import type { BackendChoice } from './workers/protocol';

const THEME_KEY = 'turn-credit-playground.theme';

function watchTheme(): void {
  const dark = matchMedia('(prefers-color-scheme: dark)');
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(THEME_KEY);
  } catch {
    // Storage can be disabled (private windows); the theme then lasts for this page only.
  }
  const theme: ThemeChoice | null =
    saved === 'light' || saved === 'dark' || saved === 'system' ? saved : null;
  useUi.setState({ systemDark: dark.matches, ...(theme ? { theme } : {}) });
  dark.addEventListener('change', (e) => useUi.setState({ systemDark: e.matches }));
  const apply = () => {
    const ui = useUi.getState();
    document.documentElement.dataset.theme = effectiveTheme(ui);
    try {
      localStorage.setItem(THEME_KEY, ui.theme);
    } catch {
      // As above: not kept.
    }
  };
  apply();
  useUi.subscribe(apply);
}

const isBackend = (v: string | undefined): v is BackendChoice =>
  v === 'auto' || v === 'webgpu' || v === 'cpu';

/** Offers the newest stored run with progress for resuming (or resumes ?run=<id> directly). */
async function offerResume(playground: Playground, runParam: string | undefined) {
  const runs = await playground.listRuns();
  const candidate = runParam ? runs.find((r) => r.id === runParam) : runs.find((r) => r.checkpointStep > 0);
  if (!candidate) {
    if (runParam) report({ kind: 'load', text: `Run "${runParam}" is not stored in this browser.` });
    return;
  }
  const resume = async () => {
    useUi.setState({ resumeOffer: null });
    const loaded = await playground.loadRun(candidate.id);
    const reply = await playground.resume(candidate.id);
    if (!reply.ok) return report({ kind: 'load', text: `Could not resume: ${reply.error}` });
    if (loaded) replayHistory({ ...loaded, changeLog: loaded.run.changeLog }, loaded.resume?.step ?? 0);
  };
  if (runParam) return resume();
  const label = `${candidate.config.advantageEstimator.toUpperCase()} · seed ${candidate.config.seed}`;
  useUi.setState({ resumeOffer: { label, step: candidate.checkpointStep, resume } });
}

async function start(client: TrainerClient): Promise<void> {
  const playground = await attachPlayground(client);
  const { config, preset, ignored, page } = playground.initial;
  for (const p of ignored)
    report({ kind: 'invalid-hparams', text: `URL parameter ${p.key}=${p.value} ignored: ${p.reason}` });
  if (playground.storageError)
    report({ kind: 'info', text: `Runs are not kept in this browser: ${playground.storageError}` });
  useSession.setState({ config });
  useUi.setState({ preset });
  connect(client, {
    init: page.run === undefined,
    backend: isBackend(page.backend) ? page.backend : undefined,
  });
  await offerResume(playground, page.run);
  // The address bar always holds the running config, so copying it shares the run's settings.
  useSession.subscribe((s, prev) => {
    if (s.config !== prev.config) playground.shareUrl(s.config, useUi.getState().preset);
  });
}

watchTheme();
const client = new TrainerClient();
void start(client).catch((e) =>
  report({ kind: 'internal', text: `Start-up failed: ${e instanceof Error ? e.message : String(e)}` }),
);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App port={client} />
  </StrictMode>,
);
