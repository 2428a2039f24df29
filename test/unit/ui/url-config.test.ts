// The URL codec: only non-default values, exact round trips for any valid config, presets as a base, and
// hostile URLs that can never produce an invalid config or an exception — each refusal says why.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  KNOB_KEYS,
  type KnobKey,
  knobSpec,
  parseRunConfig,
  type RunConfig,
} from '../../../src/core/config';
import { PRESET_NAMES, presetConfig } from '../../../src/core/presets';
import { configHref, decodeConfig, encodeConfig } from '../../../src/ui/client/url-config';

/** Any value the knob's own schema accepts. */
function knobValue(key: KnobKey): fc.Arbitrary<unknown> {
  const schema = knobSpec(key).schema as unknown as {
    options?: readonly string[];
    minValue?: number;
    maxValue?: number;
    isInt?: boolean;
  };
  const def = knobSpec(key).default;
  if (Array.isArray(schema.options)) return fc.constantFrom(...schema.options);
  if (typeof def === 'boolean') return fc.boolean();
  const min = schema.minValue ?? 0;
  const max = schema.maxValue ?? 1;
  return schema.isInt
    ? fc.integer({ min, max })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

const validConfig: fc.Arbitrary<RunConfig> = fc
  .record(Object.fromEntries(KNOB_KEYS.map((k) => [k, fc.option(knobValue(k), { nil: undefined })])))
  .map((partial) =>
    parseRunConfig(Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined))),
  )
  .filter((r) => r.ok)
  .map((r) => (r.ok ? r.value : DEFAULT_CONFIG));

describe('url config', () => {
  it('writes nothing for the defaults and only the changed knobs otherwise', () => {
    expect(encodeConfig(DEFAULT_CONFIG)).toBe('');
    expect(encodeConfig({ ...DEFAULT_CONFIG, learningRate: 0.001, hideToolResults: true })).toBe(
      'hideToolResults=true&learningRate=0.001',
    );
  });

  it('round-trips every valid config exactly, with and without a preset', () => {
    fc.assert(
      fc.property(
        validConfig,
        fc.option(fc.constantFrom(...PRESET_NAMES), { nil: null }),
        (config, preset) => {
          const decoded = decodeConfig(`?${encodeConfig(config, preset)}`);
          expect(decoded.ignored).toEqual([]);
          expect(decoded.config).toEqual(config);
          expect(decoded.preset).toBe(preset);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a preset is the base: ?preset=quick-look alone gives the preset config', () => {
    const quick = presetConfig('quick-look');
    expect(quick.ok).toBe(true);
    if (quick.ok) expect(decodeConfig('?preset=quick-look').config).toEqual(quick.value);
    expect(encodeConfig(quick.ok ? quick.value : DEFAULT_CONFIG, 'quick-look')).toBe('preset=quick-look');
  });

  it('says why each parameter was ignored', () => {
    const d = decodeConfig('?learningRate=7&maxTurns=two&bogus=1&preset=nope&temperature=0.5&test=1');
    expect(d.config.temperature).toBe(0.5);
    expect(d.config.learningRate).toBe(DEFAULT_CONFIG.learningRate);
    expect(d.page).toEqual({ test: '1' });
    const reasons = Object.fromEntries(d.ignored.map((i) => [i.key, i.reason]));
    expect(reasons.learningRate).toMatch(/a number from 0 to 1/);
    expect(reasons.maxTurns).toMatch(/not a number.*integer from 1 to 6/);
    expect(reasons.bogus).toMatch(/not a setting/);
    expect(reasons.preset).toMatch(/unknown preset.*quick-look/);
  });

  it('refuses the culprit of a cross-field conflict and keeps the rest', () => {
    // heads 3 does not divide width 128: heads goes, maxTurns stays.
    const d = decodeConfig('?heads=3&maxTurns=3');
    expect(d.config.heads).toBe(DEFAULT_CONFIG.heads);
    expect(d.config.maxTurns).toBe(3);
    expect(d.ignored).toHaveLength(1);
    expect(d.ignored[0]).toMatchObject({ key: 'heads', value: '3' });
    expect(d.ignored[0].reason).toMatch(/combination.*multiple of 4 × heads/);
    // MT-GRPO needs 2 turns
    const k = decodeConfig('?maxTurns=1');
    expect(k.config.maxTurns).toBe(2);
    expect(k.ignored[0].reason).toMatch(/MT-GRPO needs at least 2 turns/);
  });

  it('survives hostile URLs: never throws, always a valid config', () => {
    const hostileKey = fc.oneof(
      fc.constantFrom(...KNOB_KEYS, 'preset', '__proto__', 'constructor', ''),
      fc.string(),
    );
    const hostileValue = fc.oneof(
      fc.string(),
      fc.constantFrom('NaN', 'Infinity', '-0', '1e400', '0x10', ' 3 ', '%', '%E0%A4%A', 'true', '[]', '{}'),
    );
    const query = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc
        .array(fc.tuple(hostileKey, hostileValue), { maxLength: 30 })
        .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&')),
    );
    fc.assert(
      fc.property(query, (q) => {
        const d = decodeConfig(q);
        expect(parseRunConfig(d.config).ok).toBe(true);
        expect(Object.getPrototypeOf(d.config)).toBe(Object.prototype);
      }),
      { numRuns: 500 },
    );
    expect(decodeConfig(`?${'a=1&'.repeat(5000)}`).ignored[0].reason).toMatch(/longer than/);
  });

  it('keeps the page parameters and the path when it rewrites the URL', () => {
    const quick = decodeConfig('?preset=quick-look').config;
    const href = configHref(
      { pathname: '/app/', search: '?test=1&learningRate=0.1' },
      { ...quick, seed: 7 },
      'quick-look',
    );
    expect(href).toBe('/app/?preset=quick-look&seed=7&test=1');
  });
});
