// A policy turn's text as labelled parts for the chat panel: `<reasoning> … </reasoning>`, `<tool> … </tool>`
// and `<answer> … </answer>` become parts of their kind, anything else plain text. The parts are shown as text
// nodes (never HTML): the model's output is data, whatever tags it writes.
import type { ChatEnd, TurnStop } from '../../export/chat-types';

export type PartKind = 'reasoning' | 'tool' | 'answer' | 'text';

export interface TurnPart {
  readonly kind: PartKind;
  readonly text: string;
  /** True when the turn ended before the tag was closed (cut by the token budget). */
  readonly unclosed: boolean;
}

const TAG = /<(reasoning|tool|answer)>/;

export function turnParts(text: string): TurnPart[] {
  const parts: TurnPart[] = [];
  const plain = (t: string) => {
    if (t.trim().length > 0) parts.push({ kind: 'text', text: t.trim(), unclosed: false });
  };
  let rest = text;
  for (let open = TAG.exec(rest); open; open = TAG.exec(rest)) {
    plain(rest.slice(0, open.index));
    const kind = open[1] as PartKind;
    const after = rest.slice(open.index + open[0].length);
    const close = after.indexOf(`</${kind}>`);
    if (close < 0) {
      parts.push({ kind, text: after.trim(), unclosed: true });
      return parts;
    }
    parts.push({ kind, text: after.slice(0, close).trim(), unclosed: false });
    rest = after.slice(close + kind.length + 3);
  }
  plain(rest);
  return parts;
}

/** The body of a `<result> … </result>` reply. */
export function resultBody(reply: string): string {
  return reply
    .replace(/^\s*<result>/, '')
    .replace(/<\/result>\s*$/, '')
    .trim();
}

export const STOP_WORDS: Readonly<Record<TurnStop, string>> = {
  tool: 'called the search tool',
  answer: 'answered',
  eos: 'ended the transcript',
  'max-tokens': 'cut at the token budget',
  context: 'ran out of context',
};

export const END_WORDS: Readonly<Record<ChatEnd, string>> = {
  answer: 'The agent answered.',
  'max-turns': 'Stopped: the turn limit was reached.',
  'max-tokens': 'Stopped: a turn reached the token budget without closing.',
  eos: 'The agent ended without an answer.',
  context: "Stopped: the model's context is full.",
  cancelled: 'Stopped on request.',
};
