// Chatting with the agent outside our engine: one free-text question, the policy's turns decoded token by token
// from any "next-token logits" function (the exported ONNX model under onnxruntime-web, in the browser or in
// Node), with the same tool loop as the RolloutEngine (src/rl/rollout.ts): a turn ends at `</tool>`,
// `</answer>` or `<eos>`, or is cut at maxTurnTokens; a tool call is answered by the sandbox and its
// `<result> … </result>` appended before the next turn. There is no KV cache: every token re-runs the forward
// on the whole sequence, which is fine for a 0.6 M-parameter model and keeps the runtime side trivial.
//
// The types (chat-types.ts) are also what the trainer worker's `chat.ask` returns (rolloutToChat), so the UI
// renders both engines the same way.
import type { Result } from '../core/config';
import { counterHash, u32ToUnit } from '../core/rng';
import { argmax, sampleReference } from '../reference/sample';
import { type SearchCaller, safeRunBatch } from '../rl/search-caller';
import { DEFAULT_SEARCH_CONFIG } from '../sandbox/config';
import type { SearchOptions } from '../sandbox/search';
import type { Tokenizer } from '../sandbox/tokenizer';
import { parseToolCall } from '../sandbox/tool-call';
import { promptText, type Rollout } from '../sandbox/transcript';
import {
  type ChatEnd,
  type ChatSampling,
  type ChatTranscript,
  type ChatTurn,
  checkChatRequest,
  type TurnStop,
} from './chat-types';

export * from './chat-types';

export interface ChatDeps {
  readonly tokenizer: Tokenizer;
  /** The model's context length: prompt, turns and results must fit in it. */
  readonly contextLength: number;
  /** Next-token logits (at least tokenizer.vocabSize of them) after the sequence `ids`. */
  nextLogits(ids: readonly number[]): Promise<Float32Array>;
  readonly search: SearchCaller;
  readonly searchOptions?: SearchOptions;
  /** Streaming: the turn's text so far, after every token. */
  onToken?(turn: number, textSoFar: string): void;
  onTurn?(turn: ChatTurn): void;
  /** Checked before every token; true ends the exchange as 'cancelled'. */
  cancelled?(): boolean;
}

/** A finished turn's text as a ChatTurn (shared with rolloutToChat, so both engines describe turns alike). */
function describeTurn(index: number, text: string, stop: TurnStop, reply: ChatTurn['reply']): ChatTurn {
  let query: string | null = null;
  let callError: string | null = null;
  if (text.includes('<tool>') || text.includes('</tool>')) {
    const parsed = parseToolCall(text, { maxQueryChars: DEFAULT_SEARCH_CONFIG.maxQueryChars });
    if (parsed.ok) query = parsed.call.query;
    else callError = parsed.error.message;
  }
  return { index, text, stop, query, callError, reply };
}

function finalAnswer(turns: readonly ChatTurn[]): string | null {
  const text = turns[turns.length - 1]?.text ?? '';
  const close = text.lastIndexOf('</answer>');
  const open = close < 0 ? -1 : text.lastIndexOf('<answer>', close);
  return open < 0 ? null : text.slice(open + '<answer>'.length, close).trim();
}

/** Picks the next token among the tokenizer's ids (the model's vocabulary may be padded past them). */
function pick(
  logits: Float32Array,
  vocabSize: number,
  s: ChatSampling,
  turn: number,
  position: number,
): number {
  const row = Float64Array.from(logits.subarray(0, vocabSize));
  if (s.temperature === 0) return argmax(row);
  return sampleReference(row, s, u32ToUnit(counterHash(s.seed, turn, position)));
}

/** Runs one exchange. Errors as values: a question that does not fit, a runtime that fails. */
export async function runChat(
  question: string,
  sampling: ChatSampling,
  deps: ChatDeps,
): Promise<Result<ChatTranscript>> {
  const started = performance.now();
  const checked = checkChatRequest(question, sampling);
  if (!checked.ok) return checked;
  const { tokenizer, contextLength: T } = deps;
  const special = tokenizer.special;
  const ids = tokenizer.encode(promptText(checked.value));
  if (ids.length >= T) {
    return {
      ok: false,
      error: `The question takes ${ids.length} tokens; the model's context holds ${T}. Ask something shorter.`,
    };
  }
  const stopOf = new Map<number, TurnStop>([
    [special.toolClose, 'tool'],
    [special.answerClose, 'answer'],
    [special.eos, 'eos'],
  ]);
  const turns: ChatTurn[] = [];
  const done = (end: ChatEnd): Result<ChatTranscript> => ({
    ok: true,
    value: {
      question: checked.value,
      turns,
      end,
      answer: finalAnswer(turns),
      ms: performance.now() - started,
    },
  });
  const finish = (turn: ChatTurn) => {
    turns.push(turn);
    deps.onTurn?.(turn);
  };

  for (let k = 0; k < sampling.maxTurns; k++) {
    const generated: number[] = [];
    let stop: TurnStop = 'max-tokens';
    while (generated.length < sampling.maxTurnTokens) {
      if (deps.cancelled?.()) {
        if (generated.length > 0) finish(describeTurn(k, tokenizer.decode(generated), 'max-tokens', null));
        return done('cancelled');
      }
      if (ids.length >= T) {
        stop = 'context';
        break;
      }
      let logits: Float32Array;
      try {
        logits = await deps.nextLogits(ids);
      } catch (e) {
        return { ok: false, error: `The model failed to run: ${e instanceof Error ? e.message : String(e)}` };
      }
      const token = pick(logits, tokenizer.vocabSize, sampling, k, ids.length);
      ids.push(token);
      generated.push(token);
      deps.onToken?.(k, tokenizer.decode(generated));
      const stopped = stopOf.get(token);
      if (stopped) {
        stop = stopped;
        break;
      }
    }
    const text = tokenizer.decode(generated);
    // A call on the last allowed turn ends the exchange: no turn is left to read its result (as in training).
    if (stop !== 'tool' || k + 1 >= sampling.maxTurns) {
      finish(describeTurn(k, text, stop, null));
      return done(stop === 'tool' ? 'max-turns' : stop);
    }
    const [reply] = await safeRunBatch(deps.search, [text], deps.searchOptions ?? DEFAULT_SEARCH_CONFIG);
    const resultIds = tokenizer.encode(reply.text);
    // The next turn needs at least one free position after the result (the RolloutEngine's rule).
    if (resultIds.length >= T - ids.length) {
      finish(describeTurn(k, text, stop, null));
      return done('context');
    }
    ids.push(...resultIds);
    finish(describeTurn(k, text, stop, { ok: reply.ok, text: reply.text }));
  }
  return done('max-turns');
}

/** A RolloutEngine rollout (the live policy's `chat.ask`) in the chat's terms. */
export function rolloutToChat(rollout: Rollout, maxTurns: number, ms: number): ChatTranscript {
  const turns = rollout.turns.map((t, k) => {
    const trimmed = t.text.trimEnd();
    const stop: TurnStop = trimmed.endsWith('</tool>')
      ? 'tool'
      : trimmed.endsWith('</answer>')
        ? 'answer'
        : trimmed.endsWith('<eos>')
          ? 'eos'
          : 'max-tokens';
    return describeTurn(k, t.text, stop, t.reply ? { ok: t.reply.ok, text: t.reply.text } : null);
  });
  const last = turns[turns.length - 1];
  let end: ChatEnd = last?.stop === 'tool' ? 'max-turns' : (last?.stop ?? 'max-tokens');
  // A tool call before the last turn that got no reply ran out of context for its result.
  if (last?.stop === 'tool' && turns.length < maxTurns) end = 'context';
  return { question: rollout.question, turns, end, answer: finalAnswer(turns), ms };
}
