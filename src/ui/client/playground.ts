// The glue between the trainer client, the URL and IndexedDB, for main.tsx to call once:
//   const playground = await attachPlayground(client);   // reads ?preset=…&knob=… , starts persisting
//   playground.initial.config                              // the config to init with (ignored params listed)
//   await playground.listRuns(); await playground.resume(id) // offer to resume after a reload
//   playground.shareUrl(config, preset)                    // keeps the address bar in step with the config
// Every run the worker starts (run.ready at step 0 without a resume) gets a record; a resumed run keeps its own.
import type { RunConfig } from '../../core/config';
import type { BackendChoice } from '../../workers/protocol';
import { type LoadedRun, persistEvents, type RunRecord, RunStore } from './persistence';
import type { Reply, TrainerClient } from './trainer-client';
import { configHref, type DecodedUrl, decodeConfig } from './url-config';

/** Runs kept in IndexedDB; older ones are deleted when a new run starts. */
export const KEEP_RUNS = 10;

export interface Playground {
  readonly initial: DecodedUrl;
  /** Null when IndexedDB is unavailable (then runs are not kept; `storageError` says why). */
  readonly store: RunStore | null;
  readonly storageError: string | null;
  currentRunId(): string | null;
  listRuns(): Promise<RunRecord[]>;
  loadRun(id: string): Promise<LoadedRun | null>;
  /** Re-initialises the worker from run `id`'s last checkpoint (or its config when it has none yet). */
  resume(id: string, backend?: BackendChoice): Promise<Reply | { ok: false; error: string }>;
  /** Writes the config into the address bar (history.replaceState: no new history entries). */
  shareUrl(config: RunConfig, preset: string | null): string;
  detach(): void;
}

export async function attachPlayground(
  client: TrainerClient,
  location: Location = window.location,
): Promise<Playground> {
  const initial = decodeConfig(location.search);
  const opened = await RunStore.open();
  const store = opened.ok ? opened.value : null;
  let runId: string | null = null;
  let resuming: string | null = null;
  let preset = initial.preset;
  const unsubscribers: (() => void)[] = [];
  let pendingCreate: Promise<void> = Promise.resolve();
  if (store) {
    // New run records are made before persistEvents sees the event (listeners run in subscription order).
    unsubscribers.push(
      client.onEvent((event) => {
        if (event.type !== 'run.ready') return;
        if (resuming !== null) {
          runId = resuming;
          resuming = null;
          return;
        }
        if (event.info.step === 0) {
          runId = null;
          const config = event.info.config;
          pendingCreate = store.createRun(config, preset).then((run) => {
            runId = run.id;
            return store.prune(KEEP_RUNS);
          });
        }
      }),
    );
    unsubscribers.push(
      persistEvents(
        { onEvent: (listener) => client.onEvent((e) => void pendingCreate.then(() => listener(e))) },
        store,
        () => runId,
        (message) => console.warn(message),
      ),
    );
  }
  const playground: Playground = {
    initial,
    store,
    storageError: opened.ok ? null : opened.error,
    currentRunId: () => runId,
    listRuns: async () => (store ? store.listRuns() : []),
    loadRun: async (id) => (store ? store.loadRun(id) : null),
    async resume(id, backend) {
      const loaded = store ? await store.loadRun(id) : null;
      if (!loaded) return { ok: false, error: 'that run is no longer stored' };
      resuming = id;
      preset = loaded.run.preset;
      const reply = await client.init(loaded.run.config, {
        backend: backend ?? loaded.run.backend ?? 'auto',
        resume: loaded.resume ?? undefined,
      });
      if (!reply.ok) resuming = null;
      return reply;
    },
    shareUrl(config, name) {
      preset = name;
      const href = configHref(location, config, name);
      window.history.replaceState(null, '', href);
      return href;
    },
    detach: () => {
      for (const u of unsubscribers) u();
      store?.close();
    },
  };
  const testHandle: unknown = Reflect.get(window, '__tcp');
  if (typeof testHandle === 'object' && testHandle !== null)
    Reflect.set(testHandle, 'playground', playground);
  return playground;
}
