import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { type DemoStep, runEngineDemo } from './ui/engine-demo';

function EngineDemo() {
  const [steps, setSteps] = useState<DemoStep[]>([]);
  const [status, setStatus] = useState('idle');
  const run = async () => {
    setSteps([]);
    setStatus('running');
    try {
      const adapter = await runEngineDemo(20, (s) => setSteps((prev) => [...prev, s]));
      setStatus(`done on ${adapter}`);
    } catch (e) {
      setStatus(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const last = steps[steps.length - 1];
  return (
    <main
      style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto', padding: '0 1rem' }}
    >
      <h1>Turn Credit Playground — engine check</h1>
      <p>
        Trains a tiny GPT (WGSL kernels on <code>navigator.gpu</code>) on a sequence-reversal task for 20
        steps and prints each loss.
      </p>
      <button type="button" onClick={run} disabled={status === 'running'}>
        Run 20 training steps
      </button>
      <p data-testid="status">{status}</p>
      {last && (
        <p>
          Latest loss: <strong data-testid="loss">{last.loss.toFixed(4)}</strong> at step {last.step}
        </p>
      )}
      <ol data-testid="losses">
        {steps.map((s) => (
          <li key={s.step}>
            loss {s.loss.toFixed(4)} · grad norm {s.gradNorm.toFixed(3)} · {s.ms.toFixed(0)} ms
          </li>
        ))}
      </ol>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <EngineDemo />
  </StrictMode>,
);
