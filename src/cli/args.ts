// Command-line flags for every knob of the run config (one per row of the KNOBS table), plus a preset.
// Invalid values are refused with the valid range; nothing is silently clamped.
import {
  DEFAULT_CONFIG,
  flagName,
  KNOB_KEYS,
  type KnobKey,
  knobSpec,
  parseKnobText,
  parseRunConfig,
  type Result,
  type RunConfig,
} from '../core/config';
import { presetConfig } from '../core/presets';

export interface ParsedArgs {
  readonly config: RunConfig;
  /** Knobs given explicitly on the command line. */
  readonly explicit: readonly KnobKey[];
  /** Flags that are not knobs (e.g. --out), as raw strings; boolean flags without a value are "true". */
  readonly extra: Readonly<Record<string, string>>;
}

const FLAG_TO_KEY = new Map(KNOB_KEYS.map((k) => [flagName(k), k]));

/**
 * Parses `--preset NAME`, `--<knob> VALUE` and the caller's own `extraFlags` (name → takes a value).
 * Booleans accept `--flag`, `--flag true|false`, `--no-flag`.
 */
export function parseArgs(
  argv: readonly string[],
  extraFlags: Readonly<Record<string, boolean>>,
): Result<ParsedArgs> {
  const extra: Record<string, string> = {};
  const values: Partial<Record<KnobKey, unknown>> = {};
  const explicit: KnobKey[] = [];
  let preset: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) return { ok: false, error: `unexpected argument "${arg}"` };
    let name = arg.slice(2);
    let inline: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const takeValue = (): string | null => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) return null;
      i++;
      return next;
    };
    if (name === 'preset') {
      preset = takeValue();
      if (preset === null) return { ok: false, error: '--preset needs a name' };
      continue;
    }
    if (name in extraFlags) {
      const value = extraFlags[name] ? takeValue() : 'true';
      if (value === null) return { ok: false, error: `--${name} needs a value` };
      extra[name] = value;
      continue;
    }
    const negated = name.startsWith('no-') ? FLAG_TO_KEY.get(name.slice(3)) : undefined;
    const key = FLAG_TO_KEY.get(name) ?? negated;
    if (!key) return { ok: false, error: `unknown flag --${name} (see --help)` };
    const isBoolean = typeof knobSpec(key).default === 'boolean';
    let text: string | null;
    if (negated) text = 'false';
    else if (isBoolean) {
      const next = inline ?? argv[i + 1];
      text = next === 'true' || next === 'false' ? (inline ?? argv[++i]) : 'true';
    } else text = takeValue();
    if (text === null) return { ok: false, error: `--${name} needs a value (${describe(key)})` };
    const parsed = parseKnobText(key, text);
    if (!parsed.ok) return { ok: false, error: `--${name}: ${parsed.error}` };
    values[key] = parsed.value;
    explicit.push(key);
  }
  let base = DEFAULT_CONFIG;
  if (preset !== null) {
    const p = presetConfig(preset);
    if (!p.ok) return p;
    base = p.value;
  }
  const config = parseRunConfig({ ...base, ...values });
  if (!config.ok) return config;
  return { ok: true, value: { config: config.value, explicit, extra } };
}

function describe(key: KnobKey): string {
  return `${knobSpec(key).label}`;
}

/** Help text: one line per knob with its flag, default and help. */
export function knobHelp(): string {
  return KNOB_KEYS.map((k) => {
    const spec = knobSpec(k);
    return `  --${flagName(k).padEnd(26)} ${String(spec.default).padEnd(10)} ${spec.help}${spec.reset ? ' (model/data: fixed per run)' : ''}`;
  }).join('\n');
}
