// One rollout's transcript, token by token: policy tokens coloured by the advantage they were trained with,
// the prompt and the search results muted (context the policy read but was not trained on). Text nodes only.
import { Fragment, memo } from 'react';
import type { CreditSnapshot, CreditToken } from '../../workers/protocol';
import { css, divergingRgb, type Palette, textOn } from '../view/colour';
import { formatNumber, formatSigned } from '../view/format';
import { spaceBefore } from '../view/tokens';

interface Props {
  readonly snapshot: CreditSnapshot;
  readonly rollout: number;
  readonly palette: Palette;
  readonly limit: number;
}

function tokenTitle(t: CreditToken): string {
  if (t.role !== 'policy') return t.role === 'sandbox' ? 'search result (context, no gradient)' : 'prompt';
  return `turn ${t.turn + 1} · advantage ${formatSigned(t.advantage)} · log p ${formatNumber(t.logp, 3)} · ratio ${formatNumber(t.ratio, 4)}`;
}

export const TokenView = memo(function TokenView({ snapshot, rollout, palette, limit }: Props) {
  const r = snapshot.rollouts[rollout];
  if (!r) return <p className="empty">No rollout selected.</p>;
  const member = rollout % Math.max(1, snapshot.G);
  return (
    <div className="token-view" data-testid="token-view">
      <p className="token-meta">
        <strong>
          Prompt {r.prompt + 1}, rollout {member + 1}
        </strong>{' '}
        · accepted {r.answers.length === 1 ? 'answer' : 'answers'}:{' '}
        <span className="mono">{r.answers.join(' / ')}</span>
      </p>
      <div className="transcript mono">
        {r.tokens.map((t, i) => {
          const rgb = t.role === 'policy' ? divergingRgb(t.advantage, limit, palette) : null;
          // The space is its own uncoloured text node, so coloured tokens read as separate words.
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: tokens never reorder within a snapshot.
            <Fragment key={i}>
              {spaceBefore(r.tokens[i - 1]?.text, t.text) ? ' ' : ''}
              <span
                className={`tok ${t.role}`}
                title={tokenTitle(t)}
                style={rgb ? { background: css(rgb), color: textOn(rgb) } : undefined}
              >
                {t.text}
              </span>
            </Fragment>
          );
        })}
      </div>
      <ul className="turn-summary">
        {r.turns.map((t, k) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: turn k is the key.
          <li key={k}>
            Turn {k + 1}: advantage <strong>{formatSigned(t.advantage)}</strong> · tool ok{' '}
            {formatNumber(t.toolExecution, 2)} · answer in results {formatNumber(t.answerInResults, 2)}
          </li>
        ))}
        <li>
          Outcome: exact match {formatNumber(r.outcome.exactMatch, 2)} · answer contained{' '}
          {formatNumber(r.outcome.answerContained, 2)} · format {formatNumber(r.outcome.format, 2)} · XML{' '}
          {formatNumber(r.outcome.xmlTags, 2)}
        </li>
      </ul>
    </div>
  );
});
