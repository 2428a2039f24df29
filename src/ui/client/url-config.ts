// The run config lives in the URL (TF Playground's state.ts): the knob table in src/core/config.ts drives it, so
// a new knob needs no change here. Only values that differ from the base (the defaults, or a named preset's
// config) are written, in table order:  ?preset=quick-look&learningRate=0.001&maxTurns=3
// Decoding never throws and always returns a valid config; every parameter it could not use is listed with
// the reason (unknown key, bad value with the valid range, a combination the cross-field rules refuse).
import {
  DEFAULT_CONFIG,
  KNOB_KEYS,
  type KnobKey,
  parseKnobText,
  parseRunConfig,
  type RunConfig,
} from '../../core/config';
import { PRESET_NAMES, presetConfig } from '../../core/presets';

/** Parameters that are not knobs but mean something to the page; decoding passes them through. */
export const PAGE_PARAMS = ['test', 'backend', 'run'] as const;
export type PageParam = (typeof PAGE_PARAMS)[number];

/** Hostile URLs are cut down before parsing. */
export const MAX_QUERY_CHARS = 8192;
export const MAX_PARAMS = 128;

export interface IgnoredParam {
  readonly key: string;
  readonly value: string;
  readonly reason: string;
}

export interface DecodedUrl {
  readonly config: RunConfig;
  /** The preset the URL named, when it named a known one. */
  readonly preset: string | null;
  readonly ignored: readonly IgnoredParam[];
  readonly page: Partial<Record<PageParam, string>>;
}

const isKnob = (key: string): key is KnobKey => (KNOB_KEYS as string[]).includes(key);
const isPageParam = (key: string): key is PageParam => (PAGE_PARAMS as readonly string[]).includes(key);

/** Numbers print as JavaScript's shortest round-trip form, so decode(encode(x)) === x exactly. */
export const knobText = (value: unknown): string => String(value);

/** The base a URL's values are relative to: the preset's config, or the defaults. */
export function baseConfig(preset: string | null): RunConfig {
  if (preset === null) return DEFAULT_CONFIG;
  const result = presetConfig(preset);
  return result.ok ? result.value : DEFAULT_CONFIG;
}

/** The query string (without "?") of a config: the preset, then each knob that differs from the base. */
export function encodeConfig(config: RunConfig, preset: string | null = null): string {
  const known = preset !== null && PRESET_NAMES.includes(preset) ? preset : null;
  const base = baseConfig(known);
  const params = new URLSearchParams();
  if (known) params.set('preset', known);
  for (const key of KNOB_KEYS) if (config[key] !== base[key]) params.set(key, knobText(config[key]));
  return params.toString();
}

export function decodeConfig(search: string): DecodedUrl {
  const ignored: IgnoredParam[] = [];
  let query = search.startsWith('?') ? search.slice(1) : search;
  if (query.length > MAX_QUERY_CHARS) {
    ignored.push({
      key: '(query)',
      value: '',
      reason: `longer than ${MAX_QUERY_CHARS} characters; the rest was cut`,
    });
    query = query.slice(0, MAX_QUERY_CHARS);
  }
  let entries: [string, string][];
  try {
    entries = [...new URLSearchParams(query).entries()];
  } catch {
    entries = [];
    ignored.push({ key: '(query)', value: '', reason: 'not a query string' });
  }
  if (entries.length > MAX_PARAMS) {
    ignored.push({
      key: '(query)',
      value: '',
      reason: `more than ${MAX_PARAMS} parameters; the rest were ignored`,
    });
    entries = entries.slice(0, MAX_PARAMS);
  }
  const page: Partial<Record<PageParam, string>> = {};
  let preset: string | null = null;
  const values = new Map<KnobKey, { text: string; value: unknown }>();
  entries.forEach(([key, text], i) => {
    const later = entries.slice(i + 1).some(([k]) => k === key);
    if (later) {
      ignored.push({ key, value: text, reason: 'given more than once; the last value is used' });
      return;
    }
    if (key === 'preset') {
      if (PRESET_NAMES.includes(text)) preset = text;
      else ignored.push({ key, value: text, reason: `unknown preset (one of ${PRESET_NAMES.join(', ')})` });
    } else if (isPageParam(key)) {
      page[key] = text;
    } else if (!isKnob(key)) {
      ignored.push({ key, value: text, reason: 'not a setting of this playground' });
    } else {
      const parsed = parseKnobText(key, text);
      if (parsed.ok) values.set(key, { text, value: parsed.value });
      else ignored.push({ key, value: text, reason: parsed.error });
    }
  });
  const base = baseConfig(preset);
  const build = (keys: readonly KnobKey[]) =>
    parseRunConfig({ ...base, ...Object.fromEntries(keys.map((k) => [k, values.get(k)!.value])) });
  let keys = [...values.keys()];
  let result = build(keys);
  // A combination the cross-field rules refuse: drop the fewest URL values that make the rest valid — the
  // single culprit when there is one, else the latest-named values one by one.
  while (!result.ok && keys.length > 0) {
    const reason = result.error;
    const culprit = keys.find((k) => build(keys.filter((x) => x !== k)).ok) ?? keys[keys.length - 1];
    ignored.push({
      key: culprit,
      value: values.get(culprit)!.text,
      reason: `refused in combination: ${reason}`,
    });
    keys = keys.filter((k) => k !== culprit);
    result = build(keys);
  }
  // The base itself is valid (defaults and presets are), so this only falls back on a broken preset table.
  return { config: result.ok ? result.value : DEFAULT_CONFIG, preset, ignored, page };
}

/** The page URL for a config (keeps the path and the page parameters, replaces the knobs). */
export function configHref(
  location: { readonly pathname: string; readonly search: string },
  config: RunConfig,
  preset: string | null,
): string {
  const { page } = decodeConfig(location.search);
  const query = new URLSearchParams(encodeConfig(config, preset));
  for (const [key, value] of Object.entries(page)) if (value !== undefined) query.set(key, value);
  const text = query.toString();
  return text === '' ? location.pathname : `${location.pathname}?${text}`;
}
