// Every fixed phrase the sandbox writes into a transcript: tool error messages and the reasoning templates of
// the demonstrations. They live in one place because the vocabulary must cover them (build.ts feeds them to
// buildVocabulary) and because the policy learns them verbatim. Slots are `{name}`.

/** Why a tool call failed. The first group comes from the parser, the rest from the search side. */
export type ToolErrorCode =
  | 'no-call'
  | 'malformed-tags'
  | 'trailing-text'
  | 'unknown-tool'
  | 'missing-tool-name'
  | 'empty-query'
  | 'query-too-long'
  | 'control-character'
  | 'markup-in-query'
  | 'no-results'
  | 'timeout'
  | 'worker-crashed'
  | 'internal';

/** Plain words only: no tags, never an echo of the query (a result must not be able to inject markup). */
export const TOOL_ERROR_MESSAGES: Readonly<Record<ToolErrorCode, string>> = {
  'no-call': 'there is no tool call in this turn',
  'malformed-tags': 'a tool call needs exactly one opening and one closing tool tag',
  'trailing-text': 'the turn must end right after the closing tool tag',
  'unknown-tool': 'unknown tool, the only tool is search',
  'missing-tool-name': 'write search: followed by the query',
  'empty-query': 'the query is empty',
  'query-too-long': 'the query is too long',
  'control-character': 'the query contains control characters',
  'markup-in-query': 'the query contains angle brackets',
  'no-results': 'no passage matches the query',
  timeout: 'the search timed out',
  'worker-crashed': 'the search tool crashed',
  internal: 'the search tool failed',
};

export interface DemoPhrases {
  /** before the first search; slot {query} */
  readonly plan: readonly string[];
  /** after an intermediate hop; slots {bridge}, {query} */
  readonly bridge: readonly string[];
  /** after the last search, before the answer; slot {answer} */
  readonly conclude: readonly string[];
  /** answering without a tool; slot {answer} */
  readonly direct: readonly string[];
  /** after a failed call, giving up on the tool; slot {answer} */
  readonly recover: readonly string[];
}

export const DEMO_PHRASES: DemoPhrases = {
  plan: [
    'I need to look this up. I will search for {query}.',
    'I should search for {query}.',
    'Let me search for {query}.',
    'I do not know this yet, so I will search for {query}.',
  ],
  bridge: [
    'The result says {bridge}. Now I need to search for {query}.',
    'So it is {bridge}. Next I will search for {query}.',
    'The result gives {bridge}. I still need {query}.',
  ],
  conclude: [
    'The result says {answer}.',
    'According to the result, the answer is {answer}.',
    'The search result shows {answer}.',
  ],
  direct: [
    'I think the answer is {answer}.',
    'I know this, it is {answer}.',
    'I can answer without searching.',
  ],
  recover: [
    'The search failed, so I will answer directly.',
    'The tool returned an error. I will answer from memory.',
  ],
};

/** Tool names the malformed demonstrations use instead of `search`. */
export const WRONG_TOOL_NAMES: readonly string[] = ['find', 'lookup', 'query'];

/** All fixed wording with slots removed, for the vocabulary. */
export function fixedPhraseTexts(): string[] {
  const templates = [...Object.values(TOOL_ERROR_MESSAGES), ...Object.values(DEMO_PHRASES).flat()];
  return [...templates.map((t) => t.replace(/\{[a-z]+\}/g, ' ')), 'Error:', 'search:', ...WRONG_TOOL_NAMES];
}
