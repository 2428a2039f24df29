// Every failure the trainer or a command reports, specific and dismissible; never swallowed. Errors are
// announced assertively, notes politely.
import type { Message, MessageKind } from '../state/session';
import { dismiss, useSession } from '../state/stores';
import { NoWebGpuHelp } from './NoWebGpuHelp';

const TITLES: Record<MessageKind, string> = {
  'no-webgpu': 'WebGPU is not available',
  'device-lost': 'The GPU device was lost',
  'non-finite': 'A step produced NaN or ∞',
  'invalid-hparams': 'Invalid hyperparameter',
  load: 'Could not load',
  'worker-crashed': 'The trainer crashed',
  internal: 'Internal error',
  command: 'Command failed',
  info: 'Note',
};

function detail(m: Message): string | null {
  if (m.kind === 'non-finite')
    return `Step ${m.step ?? '?'} was skipped: the parameters were left untouched. Try a lower learning rate or a tighter gradient clip.`;
  if (m.kind === 'device-lost')
    return m.recovered
      ? 'A fresh device was created and training resumes from the last checkpoint.'
      : 'Reload the page to start again; your last checkpoint is kept.';
  if (m.kind === 'worker-crashed')
    return m.recovered ? 'It was restarted; press Train to continue.' : 'Reload the page to start again.';
  return null;
}

export function MessageArea() {
  const messages = useSession((s) => s.messages);
  return (
    <section className="messages" data-testid="message-area" aria-label="Messages">
      {messages.map((m) => {
        const isError = m.kind !== 'info';
        const more = detail(m);
        return (
          <div
            key={m.id}
            className={`message ${isError ? 'error' : 'note'}`}
            data-kind={m.kind}
            data-testid={`message-${m.kind}`}
            role={isError ? 'alert' : 'status'}
          >
            <div className="message-body">
              <strong>{TITLES[m.kind]}</strong>
              <p>{m.text}</p>
              {more && <p className="muted">{more}</p>}
              {m.kind === 'no-webgpu' && <NoWebGpuHelp />}
            </div>
            <button
              type="button"
              className="dismiss"
              aria-label={`Dismiss: ${TITLES[m.kind]}`}
              onClick={() => dismiss(m.id)}
            >
              ×
            </button>
          </div>
        );
      })}
    </section>
  );
}
