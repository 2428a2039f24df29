// Per-turn credit of the viewed step: a small table per prompt group (rows = its G rollouts, columns =
// turns), coloured by advantage. The tables are memoised on the snapshot, so hovering and training do not
// re-render 100+ cells; the rewards behind a cell show in a tooltip and, as text, inside the cell.
import { type FocusEvent, type KeyboardEvent, type MouseEvent, memo, useMemo, useRef, useState } from 'react';
import type { CreditSnapshot } from '../../workers/protocol';
import { css, divergingRgb, type Palette, textOn } from '../view/colour';
import { formatSigned } from '../view/format';
import { cellAdvantage, cellRewardLines, groupRollouts } from '../view/heat-layout';

interface Props {
  readonly snapshot: CreditSnapshot;
  readonly palette: Palette;
  readonly limit: number;
  readonly selected: number;
  readonly onSelect: (rollout: number) => void;
}

interface Cell {
  readonly rollout: number;
  readonly turn: number;
}

function cellOf(target: EventTarget | null): HTMLElement | null {
  return target instanceof Element ? target.closest<HTMLElement>('[data-rollout]') : null;
}

export function CreditHeatmap({ snapshot, palette, limit, selected, onSelect }: Props) {
  const [focus, setFocus] = useState<Cell>({ rollout: 0, turn: 0 });
  const [hover, setHover] = useState<(Cell & { x: number; y: number }) | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const K = snapshot.K;
  const count = snapshot.rollouts.length;
  const focused = { rollout: Math.min(focus.rollout, count - 1), turn: Math.min(focus.turn, K - 1) };

  const move = (e: KeyboardEvent) => {
    const d: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect(focused.rollout);
      return;
    }
    const delta = d[e.key] ?? (e.key === 'Home' ? [-count, 0] : e.key === 'End' ? [count, 0] : null);
    if (!delta) return;
    e.preventDefault();
    const next = {
      rollout: Math.max(0, Math.min(count - 1, focused.rollout + delta[0])),
      turn: Math.max(0, Math.min(K - 1, focused.turn + delta[1])),
    };
    setFocus(next);
    root.current
      ?.querySelector<HTMLElement>(`[data-testid="heat-cell-${next.rollout}-${next.turn}"]`)
      ?.focus();
  };

  // The tooltip follows the mouse, and the keyboard focus too (the same text is inside each cell for
  // screen readers).
  const showFor = (e: MouseEvent | FocusEvent) => {
    const cell = cellOf(e.target);
    const box = root.current?.getBoundingClientRect();
    if (!cell || !box) return setHover(null);
    const r = cell.getBoundingClientRect();
    setHover({
      rollout: Number(cell.dataset.rollout),
      turn: Number(cell.dataset.turn),
      x: r.left - box.left + r.width / 2,
      y: r.bottom - box.top + 6,
    });
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: arrow keys move the roving focus among the cells.
    <div
      className="heatmap"
      ref={root}
      onKeyDown={move}
      onMouseOver={showFor}
      onFocus={showFor}
      onMouseLeave={() => setHover(null)}
      onBlur={() => setHover(null)}
      onClick={(e) => {
        const cell = cellOf(e.target);
        if (cell) onSelect(Number(cell.dataset.rollout));
      }}
      data-testid="credit-heatmap"
    >
      <HeatTables snapshot={snapshot} palette={palette} limit={limit} selected={selected} focused={focused} />
      {hover && <HeatTooltip snapshot={snapshot} cell={hover} />}
    </div>
  );
}

const HeatTables = memo(function HeatTables({
  snapshot,
  palette,
  limit,
  selected,
  focused,
}: Omit<Props, 'onSelect'> & { focused: Cell }) {
  const groups = useMemo(() => groupRollouts(snapshot.rollouts), [snapshot]);
  const turns = Array.from({ length: snapshot.K }, (_, k) => k);
  return (
    <div className="heat-groups">
      {groups.map((g) => (
        <table key={g.rows[0]} className="heat-group">
          <caption title={g.question}>
            Prompt {g.prompt + 1}
            <span className="visually-hidden">: {g.question}</span>
          </caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Rollout</span>
              </th>
              {turns.map((k) => (
                <th key={k} scope="col">
                  T{k + 1}
                </th>
              ))}
              <th scope="col" title="Exact match of the final answer">
                EM
              </th>
            </tr>
          </thead>
          <tbody>
            {g.rows.map((i, member) => {
              const r = snapshot.rollouts[i];
              return (
                <tr key={i} className={i === selected ? 'selected' : undefined}>
                  <th scope="row">{member + 1}</th>
                  {turns.map((k) => {
                    const a = cellAdvantage(r, k);
                    const rgb = divergingRgb(a, limit, palette);
                    const taken = Number.isFinite(a);
                    return (
                      <td
                        key={k}
                        data-testid={`heat-cell-${i}-${k}`}
                        data-rollout={i}
                        data-turn={k}
                        data-advantage={taken ? a : ''}
                        tabIndex={focused.rollout === i && focused.turn === k ? 0 : -1}
                        className={taken ? 'cell' : 'cell none'}
                        style={taken ? { background: css(rgb), color: textOn(rgb) } : undefined}
                      >
                        <span aria-hidden="true">{taken ? formatSigned(a) : '·'}</span>
                        <span className="visually-hidden">{cellRewardLines(r, k).join('. ')}</span>
                      </td>
                    );
                  })}
                  <td className="em">{r.outcome.exactMatch > 0 ? '✓' : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ))}
    </div>
  );
});

function HeatTooltip({
  snapshot,
  cell,
}: {
  snapshot: CreditSnapshot;
  cell: Cell & { x: number; y: number };
}) {
  const r = snapshot.rollouts[cell.rollout];
  if (!r) return null;
  const [title, ...lines] = cellRewardLines(r, cell.turn);
  return (
    <div className="heat-tooltip" role="presentation" style={{ left: cell.x, top: cell.y }}>
      <strong>{title}</strong>
      {lines.map((l) => (
        <span key={l}>{l}</span>
      ))}
      <span className="muted">Click to read this rollout below.</span>
    </div>
  );
}
