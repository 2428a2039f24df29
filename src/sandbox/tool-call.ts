// The tool-call grammar and its parser. A policy turn that calls the tool ends with
//
//     <tool> search: QUERY </tool>
//
// Whitespace around `search`, `:` and the query is free (the tokenizer writes "search : query"). The turn may
// hold other text before `<tool>` (normally `<reasoning> … </reasoning>`), but nothing after `</tool>`.
// Parsing is total: every string gives a call or a typed error, nothing throws, and the work is linear in the
// input length (plain scans, no backtracking regular expressions over the whole turn).

import { TOOL_ERROR_MESSAGES, type ToolErrorCode } from './phrases';
import { normalize } from './text';

export interface SearchCall {
  readonly tool: 'search';
  /** The query with surrounding whitespace trimmed and inner runs of whitespace collapsed. */
  readonly query: string;
}

export type ParseErrorCode = Exclude<ToolErrorCode, 'no-results' | 'timeout' | 'worker-crashed' | 'internal'>;

export interface ToolCallError {
  readonly code: ParseErrorCode;
  readonly message: string;
}

export type ToolCallParse = { ok: true; call: SearchCall } | { ok: false; error: ToolCallError };

export interface ParseOptions {
  /** Longest accepted query, in characters (after trimming). */
  readonly maxQueryChars: number;
}

const OPEN = '<tool>';
const CLOSE = '</tool>';
const TOOL_NAME = 'search';
// C0/C1 controls, format characters (bidi overrides, zero-width joiners…) and lone surrogates. Tab, newline
// and carriage return are whitespace, not control characters, for this purpose.
const CONTROL = /[^\P{Cc}\t\n\r]|\p{Cf}|\p{Cs}/u;
const TOOL_NAME_LIKE = /^[\p{L}\p{N}_-]{1,40}\s*:/u;

function fail(code: ParseErrorCode): ToolCallParse {
  return { ok: false, error: { code, message: TOOL_ERROR_MESSAGES[code] } };
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** Whether the turn tries to call a tool at all (any tool tag). Turns without one are not tool calls. */
export function hasToolAttempt(turnText: string): boolean {
  return turnText.includes(OPEN) || turnText.includes(CLOSE);
}

export function parseToolCall(turnText: string, options: ParseOptions): ToolCallParse {
  if (typeof turnText !== 'string') return fail('malformed-tags');
  const opens = countOccurrences(turnText, OPEN);
  const closes = countOccurrences(turnText, CLOSE);
  if (opens === 0 && closes === 0) return fail('no-call');
  if (opens !== 1 || closes !== 1) return fail('malformed-tags');
  const start = turnText.indexOf(OPEN);
  const end = turnText.indexOf(CLOSE);
  if (end < start) return fail('malformed-tags');
  if (turnText.slice(end + CLOSE.length).trim().length > 0) return fail('trailing-text');

  const inner = turnText.slice(start + OPEN.length, end);
  if (CONTROL.test(inner)) return fail('control-character');
  const body = inner.trim();
  if (!body.startsWith(TOOL_NAME))
    return fail(TOOL_NAME_LIKE.test(body) ? 'unknown-tool' : 'missing-tool-name');
  const afterName = body.slice(TOOL_NAME.length).trimStart();
  if (!afterName.startsWith(':')) {
    // "searching: x" names another tool; "search x" forgot the colon.
    return fail(TOOL_NAME_LIKE.test(body) ? 'unknown-tool' : 'missing-tool-name');
  }
  const rawQuery = afterName.slice(1).trim();
  if (rawQuery.length === 0) return fail('empty-query');
  if (rawQuery.length > options.maxQueryChars) return fail('query-too-long');
  if (rawQuery.includes('<') || rawQuery.includes('>')) return fail('markup-in-query');
  return { ok: true, call: { tool: 'search', query: rawQuery.split(/\s+/).join(' ') } };
}

/** The canonical text of a call, as demonstrations write it. */
export function formatToolCall(query: string): string {
  return `${OPEN} ${TOOL_NAME}: ${query} ${CLOSE}`;
}

/** `<result> … </result>` in normalised text, ready to tokenize. */
export function formatResult(body: string): string {
  return normalize(`<result> ${body} </result>`);
}

export function formatToolError(code: ToolErrorCode): string {
  return formatResult(`Error: ${TOOL_ERROR_MESSAGES[code]}.`);
}
