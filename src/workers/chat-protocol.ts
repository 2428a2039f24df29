// Messages between the page and the ONNX chat worker (onnx-chat.worker.ts), which runs an exported policy under
// onnxruntime-web with the sandbox in the loop. Same shape as the trainer's protocol: one union each way,
// request ids, exactly one `reply` per command, errors as sentences a person can read.
import type { Result } from '../core/config';
import type { ModelConfig } from '../core/model-config';
import type { ChatSampling, ChatTranscript, ChatTurn } from '../export/chat-types';

export type OrtProvider = 'webgpu' | 'wasm';
/** `auto` tries onnxruntime's WebGPU execution provider and falls back to wasm. */
export type OrtChoice = 'auto' | 'wasm';

export type ChatCommand =
  | {
      readonly type: 'onnx.load';
      readonly id: number;
      readonly bytes: ArrayBuffer;
      readonly runtime: OrtChoice;
    }
  | { readonly type: 'chat.check'; readonly id: number; readonly question: string }
  | {
      readonly type: 'chat.ask';
      readonly id: number;
      readonly question: string;
      readonly sampling: ChatSampling;
    }
  /** Ends the exchange `target` at its next token (its reply comes with end: 'cancelled'). */
  | { readonly type: 'chat.stop'; readonly id: number; readonly target: number };

export interface LoadedModel {
  readonly provider: OrtProvider;
  readonly model: ModelConfig;
  readonly vocabularySize: number;
  /** Provenance from the file's metadata (step, seed, estimator), when it has them. */
  readonly info: Readonly<Record<string, string>>;
  /** Why the WebGPU provider was not used, when `auto` fell back to wasm. */
  readonly note: string | null;
}

export type ChatReplyValue =
  | { readonly kind: 'loaded'; readonly loaded: LoadedModel }
  | { readonly kind: 'chat-check'; readonly unknown: readonly string[] }
  | { readonly kind: 'chat'; readonly transcript: ChatTranscript }
  | { readonly kind: 'stopped' };

export type ChatEvent =
  | { readonly type: 'reply'; readonly id: number; readonly result: Result<ChatReplyValue> }
  /** Streaming, for the exchange `id`: the turn's text so far. */
  | { readonly type: 'chat.token'; readonly id: number; readonly turn: number; readonly text: string }
  | { readonly type: 'chat.turn'; readonly id: number; readonly turn: ChatTurn };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a command arriving at the worker (sampling values are checked by the chat loop itself). */
export function parseChatCommand(message: unknown): Result<ChatCommand> {
  if (!isObject(message) || typeof message.id !== 'number')
    return { ok: false, error: 'a command needs an id' };
  switch (message.type) {
    case 'onnx.load':
      return message.bytes instanceof ArrayBuffer &&
        (message.runtime === 'auto' || message.runtime === 'wasm')
        ? { ok: true, value: message as unknown as ChatCommand }
        : { ok: false, error: 'onnx.load needs the file bytes and a runtime' };
    case 'chat.check':
    case 'chat.ask':
      return typeof message.question === 'string' &&
        (message.type === 'chat.check' || isObject(message.sampling))
        ? { ok: true, value: message as unknown as ChatCommand }
        : {
            ok: false,
            error: `${message.type} needs a question${message.type === 'chat.ask' ? ' and sampling settings' : ''}`,
          };
    case 'chat.stop':
      return typeof message.target === 'number'
        ? { ok: true, value: message as unknown as ChatCommand }
        : { ok: false, error: 'chat.stop needs the id of the exchange to stop' };
    default:
      return { ok: false, error: `unknown command ${JSON.stringify(message.type)}` };
  }
}

/** Checks a message arriving at the page. */
export function isChatEvent(message: unknown): message is ChatEvent {
  if (!isObject(message) || typeof message.id !== 'number') return false;
  switch (message.type) {
    case 'reply':
      return isObject(message.result) && typeof message.result.ok === 'boolean';
    case 'chat.token':
      return typeof message.turn === 'number' && typeof message.text === 'string';
    case 'chat.turn':
      return isObject(message.turn) && typeof message.turn.text === 'string';
    default:
      return false;
  }
}
