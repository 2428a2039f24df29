// Chat with the agent: a person types a question and watches the policy's turns — reasoning, the search call,
// the sandbox's result, the answer — rendered as text, never HTML. Two engines: the live policy in the trainer
// worker (queued between training steps) and an exported ONNX model under onnxruntime-web in its own worker.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ChatSampling, ChatTranscript, ChatTurn } from '../../export/chat-types';
import { type ChatEngine, liveEngine, OnnxChatClient } from '../client/chat';
import { useSession } from '../state/stores';
import { ChatTurns } from './ChatTurns';
import { OnnxSource } from './OnnxSource';
import { usePort } from './port-context';

export interface Exchange {
  readonly id: number;
  readonly engine: 'live' | 'onnx';
  readonly question: string;
  readonly turns: readonly ChatTurn[];
  /** The turn being written (ONNX engine: streamed token by token). */
  readonly partial: string | null;
  readonly transcript: ChatTranscript | null;
  readonly error: string | null;
}

type Settings = Omit<ChatSampling, 'seed'>;
const FIELDS: readonly { key: keyof Settings; label: string; step: number; min: number; max: number }[] = [
  { key: 'temperature', label: 'Temperature (0 = greedy)', step: 0.1, min: 0, max: 5 },
  { key: 'topK', label: 'Top-k (0 = off)', step: 1, min: 0, max: 2000 },
  { key: 'topP', label: 'Top-p (1 = off)', step: 0.05, min: 0.05, max: 1 },
  { key: 'maxTurnTokens', label: 'Tokens per turn', step: 1, min: 1, max: 256 },
  { key: 'maxTurns', label: 'Turns', step: 1, min: 1, max: 8 },
];

// The ONNX worker outlives the panel's renders; it starts only when a model is loaded.
const onnx = new OnnxChatClient();

const ENGINES = [
  ['live', 'Live policy'],
  ['onnx', 'Exported ONNX'],
] as const;

export function ChatPanel() {
  const port = usePort();
  const status = useSession((s) => s.status);
  const runConfig = useSession((s) => s.config);
  const [engineKind, setEngineKind] = useState<'live' | 'onnx'>('live');
  const [onnxReady, setOnnxReady] = useState(onnx.loaded !== null);
  const [settings, setSettings] = useState<Settings>({
    temperature: 0,
    topK: 0,
    topP: 1,
    maxTurnTokens: runConfig.maxTurnTokens,
    maxTurns: runConfig.maxTurns,
  });
  const [question, setQuestion] = useState('');
  const [unknown, setUnknown] = useState<readonly string[]>([]);
  const [exchanges, setExchanges] = useState<readonly Exchange[]>([]);
  const [busy, setBusy] = useState(false);
  const asked = useRef(0);

  // Memoised: the unknown-word check below re-runs when the engine changes, and must not on every render.
  const engine: ChatEngine | null = useMemo(
    () => (engineKind === 'live' ? (port ? liveEngine(port) : null) : onnxReady ? onnx : null),
    [engineKind, port, onnxReady],
  );
  const engineReady =
    engineKind === 'live' ? port !== null && status !== 'disconnected' && status !== 'loading' : onnxReady;

  // Unknown words are pointed out while the person types (debounced: the check is a worker round trip).
  useEffect(() => {
    if (!engine || !engineReady || question.trim() === '') {
      setUnknown([]);
      return;
    }
    let current = true;
    const timer = setTimeout(async () => {
      const result = await engine.check(question);
      if (current) setUnknown(result.ok ? result.value : []);
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [question, engine, engineReady]);

  const update = (id: number, change: (e: Exchange) => Exchange) =>
    setExchanges((all) => all.map((e) => (e.id === id ? change(e) : e)));

  const ask = async () => {
    if (!engine || busy) return;
    const id = ++asked.current;
    const text = question;
    setExchanges((all) => [
      ...all.slice(-9),
      { id, engine: engineKind, question: text, turns: [], partial: null, transcript: null, error: null },
    ]);
    setBusy(true);
    // Seeded from the run's seed and the exchange count: reproducible, and no Math.random.
    const sampling: ChatSampling = { ...settings, seed: (runConfig.seed * 1000 + id) >>> 0 };
    const result = await engine.ask(text, sampling, {
      onToken: (_turn, partial) => update(id, (e) => ({ ...e, partial })),
      onTurn: (turn) => update(id, (e) => ({ ...e, turns: [...e.turns, turn], partial: null })),
    });
    update(id, (e) =>
      result.ok
        ? { ...e, turns: result.value.turns, partial: null, transcript: result.value }
        : { ...e, partial: null, error: result.error },
    );
    setBusy(false);
  };

  const waiting = engineKind === 'live' && status === 'running';
  return (
    <section className="panel chat-panel" aria-labelledby="chat-title" data-testid="chat-panel">
      <div className="panel-head">
        <h2 id="chat-title">Chat with the agent</h2>
        <fieldset className="chat-engines" aria-label="Engine">
          {ENGINES.map(([kind, label]) => (
            <label key={kind}>
              <input
                type="radio"
                name="chat-engine"
                data-testid={`chat-engine-${kind}`}
                checked={engineKind === kind}
                onChange={() => setEngineKind(kind)}
              />
              {label}
            </label>
          ))}
        </fieldset>
      </div>
      {engineKind === 'onnx' && <OnnxSource client={onnx} onReady={setOnnxReady} />}
      <div className="chat-settings">
        {FIELDS.map((f) => (
          <label key={f.key}>
            {f.label}
            <input
              type="number"
              data-testid={`chat-${f.key}`}
              min={f.min}
              max={f.max}
              step={f.step}
              value={settings[f.key]}
              onChange={(e) => {
                const v = Number(e.currentTarget.value);
                if (Number.isFinite(v))
                  setSettings({ ...settings, [f.key]: Math.max(f.min, Math.min(f.max, v)) });
              }}
            />
          </label>
        ))}
      </div>
      <form
        className="chat-ask"
        onSubmit={(e) => {
          e.preventDefault();
          void ask();
        }}
      >
        <input
          type="text"
          data-testid="chat-question"
          aria-label="Question"
          placeholder="e.g. What is the capital of Mongolia?"
          maxLength={400}
          value={question}
          onChange={(e) => setQuestion(e.currentTarget.value)}
        />
        <button type="submit" className="primary" data-testid="chat-ask" disabled={!engineReady || busy}>
          Ask
        </button>
        {busy && engineKind === 'onnx' && (
          <button type="button" data-testid="chat-stop" onClick={() => onnx.stop()}>
            Stop
          </button>
        )}
      </form>
      {unknown.length > 0 && (
        <p className="chat-unknown" data-testid="chat-unknown" role="status">
          Not in the model's vocabulary (it reads them as &lt;unk&gt;): {unknown.join(', ')}
        </p>
      )}
      {busy && waiting && (
        <p className="muted" role="status">
          Training is running: the question waits for the step in flight and runs before the next one.
        </p>
      )}
      <ChatTurns exchanges={exchanges} />
    </section>
  );
}
