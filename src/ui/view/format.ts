// Number formatting for a researcher's eye: fixed digits where the scale is known, compact exponents for
// tiny knob values (3e-4), explicit signs on advantages, and a dash for a value that does not exist.

const DASH = '—';

export function formatNumber(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? DASH : x > 0 ? '∞' : '−∞';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(Math.max(0, digits - 2)).replace('-', '−');
  // `digits` significant digits, but never rounding away integer digits (210.28 → 210, 0.01234 → 0.0123).
  return Number(x.toPrecision(Math.max(1, digits, a >= 1 ? Math.floor(Math.log10(a)) + 1 : 0)))
    .toString()
    .replace('-', '−');
}

/** Advantages: always signed, two decimals ("+0.84", "−1.20", "0.00"). */
export function formatSigned(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return DASH;
  const s = Math.abs(x).toFixed(digits);
  if (Number(s) === 0) return (0).toFixed(digits);
  return `${x > 0 ? '+' : '−'}${s}`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return DASH;
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(ms >= 10 ? 1 : 2)} ms`;
}

export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return DASH;
  return perSec >= 1000 ? `${(perSec / 1000).toFixed(1)}k/s` : `${perSec.toFixed(0)}/s`;
}

/** A knob's value in an input or a change log: exponents for tiny numbers, words for booleans. */
export function formatKnobValue(value: unknown): string {
  if (typeof value === 'number') {
    if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential();
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

export function formatPercent(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : DASH;
}

/** Axis tick labels with just enough decimals to tell neighbouring ticks apart (exponents when tiny). */
export function formatTicks(ticks: readonly number[]): string[] {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(ticks[0] ?? 1);
  const largest = Math.max(...ticks.map(Math.abs));
  if (largest !== 0 && largest < 1e-3) {
    const digits = Math.max(0, Math.ceil(Math.log10(largest / (step || largest))) - 1);
    return ticks.map((t) => (t === 0 ? '0' : t.toExponential(digits).replace('-', '−')));
  }
  const decimals = step > 0 ? Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9))) : 0;
  return ticks.map((t) => {
    if (largest >= 1e5) return `${(t / 1000).toFixed(0)}k`;
    return t.toFixed(decimals).replace('-', '−');
  });
}
