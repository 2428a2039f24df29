// Users' own corpus (JSONL of {id, title, text}) and QA set (JSONL of {question, answers[]}). Import is a
// boundary: every problem is a value with the 1-based line number it comes from, never an exception.

import { Rng } from '../core/rng';
import { DEFAULT_CORPUS_CONFIG } from './config';
import { assignSplits, type SplitFractions } from './splits';
import type { Article, QaItem } from './types';

export interface LineError {
  /** 1-based line of the file */
  readonly line: number;
  readonly message: string;
}

export type ImportResult<T> = { ok: true; records: T[] } | { ok: false; errors: LineError[] };

/** At most this many errors are reported; the first ones are the useful ones. */
export const MAX_REPORTED_ERRORS = 20;

type Fields = Record<string, unknown>;

function parseLines<T>(
  text: string,
  what: string,
  toRecord: (fields: Fields, line: number) => T | string,
): ImportResult<T> {
  const records: T[] = [];
  const errors: LineError[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && errors.length < MAX_REPORTED_ERRORS; i++) {
    const line = i + 1;
    const raw = lines[i].trim();
    if (raw.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      errors.push({
        line,
        message: `line ${line}: not valid JSON (${e instanceof Error ? e.message : String(e)})`,
      });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push({ line, message: `line ${line}: expected a JSON object like ${what}` });
      continue;
    }
    const record = toRecord(value as Fields, line);
    if (typeof record === 'string') errors.push({ line, message: `line ${line}: ${record}` });
    else records.push(record);
  }
  if (errors.length === 0 && records.length === 0) {
    errors.push({ line: 1, message: `line 1: the file holds no records; expected one ${what} per line` });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, records };
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

export function parseCorpusJsonl(text: string): ImportResult<Article> {
  const seen = new Map<string, number>();
  return parseLines(text, '{"id": "…", "title": "…", "text": "…"}', (f, line) => {
    if (!nonEmptyString(f.id)) return '"id" must be a non-empty string';
    if (typeof f.title !== 'string') return '"title" must be a string';
    if (!nonEmptyString(f.text)) return '"text" must be a non-empty string';
    const first = seen.get(f.id);
    if (first !== undefined) return `id "${f.id}" is already used on line ${first}`;
    seen.set(f.id, line);
    return { id: f.id, title: f.title, text: f.text };
  });
}

/**
 * QA items get family `user`, no hops or gold articles, and a split drawn from the seed (each question is
 * its own entity, since the file does not say what it is about).
 */
export function parseQaJsonl(
  text: string,
  seed: number = DEFAULT_CORPUS_CONFIG.seed,
  fractions: SplitFractions = DEFAULT_CORPUS_CONFIG,
): ImportResult<QaItem> {
  const parsed = parseLines(text, '{"question": "…", "answers": ["…"]}', (f, line) => {
    if (!nonEmptyString(f.question)) return '"question" must be a non-empty string';
    if (!Array.isArray(f.answers) || f.answers.length === 0)
      return '"answers" must be a non-empty array of strings';
    const bad = f.answers.findIndex((a) => !nonEmptyString(a));
    if (bad !== -1) return `"answers"[${bad}] must be a non-empty string`;
    return { line, question: f.question, answers: f.answers as string[] };
  });
  if (!parsed.ok) return parsed;
  const entities = parsed.records.map((r) => `user:${r.line}`);
  const splits = assignSplits(entities, new Rng(seed).fork('user-qa'), fractions);
  return {
    ok: true,
    records: parsed.records.map((r, i) => ({
      id: entities[i],
      family: 'user',
      relation: 'user',
      entity: entities[i],
      split: splits.get(entities[i])!,
      question: r.question,
      answers: r.answers,
      goldArticleIds: [],
      hops: [],
    })),
  };
}
