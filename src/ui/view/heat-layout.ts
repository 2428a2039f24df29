// Layout and words of the credit heatmap: rows are rollouts in prompt groups (a gap between groups makes the
// group-normalisation boundaries visible), columns are turns. Pure, so the geometry and the text a screen
// reader hears are unit-tested without a DOM.
import type { CreditSnapshot, RolloutCredit } from '../../workers/protocol';
import { formatNumber, formatSigned } from './format';

export interface HeatGroup {
  readonly prompt: number;
  readonly question: string;
  /** Indices into snapshot.rollouts, in order. */
  readonly rows: readonly number[];
}

/** Consecutive rollouts with the same prompt form a group (the trainer orders them p·G + g). */
export function groupRollouts(rollouts: readonly RolloutCredit[]): HeatGroup[] {
  const groups: { prompt: number; question: string; rows: number[] }[] = [];
  rollouts.forEach((r, i) => {
    const last = groups[groups.length - 1];
    if (last && last.prompt === r.prompt) last.rows.push(i);
    else groups.push({ prompt: r.prompt, question: r.question, rows: [i] });
  });
  return groups;
}

export interface RowPlacement {
  readonly rollout: number;
  readonly group: number;
  /** Index within its group (g). */
  readonly member: number;
  readonly y: number;
}

/** Row positions with `gap` pixels between groups; total height included. */
export function placeRows(
  groups: readonly HeatGroup[],
  rowHeight: number,
  gap: number,
): { rows: RowPlacement[]; height: number } {
  const rows: RowPlacement[] = [];
  let y = 0;
  groups.forEach((g, gi) => {
    if (gi > 0) y += gap;
    g.rows.forEach((rollout, member) => {
      rows.push({ rollout, group: gi, member, y });
      y += rowHeight;
    });
  });
  return { rows, height: y };
}

/** A turn cell's advantage; NaN for a turn the rollout never took. */
export function cellAdvantage(rollout: RolloutCredit, turn: number): number {
  return turn < rollout.turns.length ? rollout.turns[turn].advantage : Number.NaN;
}

export function turnRewardTotal(rollout: RolloutCredit): number {
  return rollout.turns.reduce((s, t) => s + t.toolExecution + t.answerInResults, 0);
}

export function outcomeRewardTotal(rollout: RolloutCredit): number {
  const o = rollout.outcome;
  return o.answerContained + o.exactMatch + o.format + o.xmlTags;
}

/** Every reward that fed a cell's advantage, as lines of text (tooltip and accessible name alike). */
export function cellRewardLines(rollout: RolloutCredit, turn: number): string[] {
  const t = rollout.turns[turn];
  if (!t) return [`Turn ${turn + 1} not taken`];
  const o = rollout.outcome;
  return [
    `Turn ${turn + 1}: advantage ${formatSigned(t.advantage)}`,
    `Turn rewards: tool ok ${formatNumber(t.toolExecution, 2)}, answer in results ${formatNumber(t.answerInResults, 2)}`,
    `Outcome: exact match ${formatNumber(o.exactMatch, 2)}, answer contained ${formatNumber(o.answerContained, 2)}, format ${formatNumber(o.format, 2)}, XML ${formatNumber(o.xmlTags, 2)}`,
  ];
}

export function cellLabel(snapshot: CreditSnapshot, index: number, turn: number): string {
  const r = snapshot.rollouts[index];
  const member = index % Math.max(1, snapshot.G);
  return `Prompt ${r.prompt + 1}, rollout ${member + 1}. ${cellRewardLines(r, turn).join('. ')}.`;
}

/** All turn advantages of a snapshot, for the colour scale's limit. */
export function* snapshotAdvantages(snapshot: CreditSnapshot): Generator<number> {
  for (const r of snapshot.rollouts) for (const t of r.turns) yield t.advantage;
}

/** The snapshot at `step`, or the newest when step is null or no longer kept. */
export function pickSnapshot(
  history: readonly CreditSnapshot[],
  step: number | null,
): CreditSnapshot | undefined {
  if (step !== null) {
    const found = history.find((s) => s.step === step);
    if (found) return found;
  }
  return history[history.length - 1];
}
