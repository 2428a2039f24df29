// The exchanges of the chat panel, turn by turn. Everything the model wrote is a text node: tags it writes are
// parsed into labelled parts (turnParts), never interpreted as markup.
import { END_WORDS, resultBody, STOP_WORDS, turnParts } from '../view/chat-text';
import { formatMs } from '../view/format';
import type { Exchange } from './ChatPanel';

const LABELS = { reasoning: 'Reasoning', tool: 'Tool call', answer: 'Answer', text: 'Text' } as const;

function Turn({
  text,
  stop,
  reply,
  index,
}: {
  text: string;
  stop: string | null;
  reply: { ok: boolean; text: string } | null;
  index: number;
}) {
  return (
    <li className="chat-turn" data-testid={`chat-turn-${index}`}>
      <div className="chat-turn-head">
        Turn {index + 1}
        {stop && <span className="muted"> · {stop}</span>}
      </div>
      {turnParts(text).map((part, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: parts are positional and re-derived from the same text
        <div key={i} className={`chat-part chat-${part.kind}`} data-kind={part.kind}>
          <span className="chat-label">{LABELS[part.kind]}</span>
          <span className="chat-text">
            {part.text}
            {part.unclosed && <span className="muted"> …</span>}
          </span>
        </div>
      ))}
      {reply && (
        <div className={`chat-part chat-result${reply.ok ? '' : ' failed'}`} data-kind="result">
          <span className="chat-label">{reply.ok ? 'Search result' : 'Search failed'}</span>
          <span className="chat-text">{resultBody(reply.text)}</span>
        </div>
      )}
    </li>
  );
}

export function ChatTurns({ exchanges }: { exchanges: readonly Exchange[] }) {
  if (exchanges.length === 0)
    return (
      <p className="explain">
        Ask a question the corpus can answer (countries and chemical elements) and watch the agent search. The
        base policy is small: early on it often searches for the wrong thing; training is what teaches it.
      </p>
    );
  return (
    <ol className="chat-log" data-testid="chat-log" aria-live="polite">
      {[...exchanges].reverse().map((x) => (
        <li key={x.id} className="chat-exchange" data-testid={`chat-exchange-${x.id}`}>
          <div className="chat-question">
            <span className="chat-label">
              {x.engine === 'live' ? 'You → live policy' : 'You → ONNX model'}
            </span>
            <span className="chat-text">{x.question}</span>
          </div>
          <ol className="chat-turns">
            {x.turns.map((t) => (
              <Turn key={t.index} index={t.index} text={t.text} stop={STOP_WORDS[t.stop]} reply={t.reply} />
            ))}
            {x.partial !== null && (
              <Turn index={x.turns.length} text={x.partial} stop="writing…" reply={null} />
            )}
          </ol>
          {x.transcript && (
            <p className="chat-end" data-testid="chat-end" data-end={x.transcript.end}>
              {END_WORDS[x.transcript.end]}
              {x.transcript.answer !== null && (
                <>
                  {' '}
                  Answer: <strong data-testid="chat-answer">{x.transcript.answer || '(empty)'}</strong>
                </>
              )}{' '}
              <span className="muted">({formatMs(x.transcript.ms)})</span>
            </p>
          )}
          {!x.transcript && !x.error && x.partial === null && x.turns.length === 0 && (
            <p className="muted">Thinking…</p>
          )}
          {x.error && (
            <p className="error-text" role="alert" data-testid="chat-error">
              {x.error}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
