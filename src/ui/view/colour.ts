// The diverging colour scale of every credit view: orange = negative advantage (blamed), purple = positive
// (credited), neutral at 0. ColorBrewer PuOr is colour-blind safe (it avoids the red–green axis); the dark
// theme keeps the hues but runs from a dark neutral, so a 0 cell does not glare on a dark page.

export type Rgb = readonly [number, number, number];
export type Palette = 'light' | 'dark';

const hex = (h: string): Rgb => [
  Number.parseInt(h.slice(1, 3), 16),
  Number.parseInt(h.slice(3, 5), 16),
  Number.parseInt(h.slice(5, 7), 16),
];

// From −limit (index 0) to +limit (last); the middle stop is 0.
const STOPS: Record<Palette, readonly Rgb[]> = {
  light: [
    '#7f3b08',
    '#b35806',
    '#e08214',
    '#fdb863',
    '#fee0b6',
    '#f7f7f7',
    '#d8daeb',
    '#b2abd2',
    '#8073ac',
    '#542788',
    '#2d004b',
  ].map(hex),
  dark: [
    '#ffc27a',
    '#f59f45',
    '#c9782c',
    '#8c5428',
    '#4f3a2a',
    '#2a2a30',
    '#3a3658',
    '#544b8f',
    '#7a6cc4',
    '#a99bf0',
    '#d7cfff',
  ].map(hex),
};

/** The colour of `value` on a scale symmetric around 0 that saturates at ±limit. NaN is the neutral colour. */
export function divergingRgb(value: number, limit: number, palette: Palette): Rgb {
  const stops = STOPS[palette];
  const mid = (stops.length - 1) / 2;
  const t = Number.isFinite(value) && limit > 0 ? Math.max(-1, Math.min(1, value / limit)) : 0;
  const x = mid + t * mid;
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i], stops[i + 1]];
  const mix = (c: 0 | 1 | 2) => Math.round(a[c] + (b[c] - a[c]) * f);
  return [mix(0), mix(1), mix(2)];
}

export function css([r, g, b]: Rgb): string {
  return `rgb(${r}, ${g}, ${b})`;
}

export function divergingColor(value: number, limit: number, palette: Palette): string {
  return css(divergingRgb(value, limit, palette));
}

/** WCAG relative luminance of an sRGB colour. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** Black or white, whichever reads better on `background` (higher WCAG contrast). */
export function textOn(background: Rgb): '#000000' | '#ffffff' {
  const l = luminance(background);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

/**
 * The scale's limit for a set of advantages: the largest |value| rounded up to a readable number, at least
 * 0.5 so a batch of near-zero advantages stays near-white instead of being stretched to full colour.
 */
export function symmetricLimit(values: Iterable<number>): number {
  let max = 0;
  for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  const nice = [0.5, 1, 1.5, 2, 3, 4, 5, 8, 10, 20, 50, 100];
  return nice.find((n) => n >= max) ?? Math.ceil(max);
}

/** Evenly spaced legend ticks from −limit to +limit. */
export function legendTicks(limit: number, count = 5): number[] {
  return Array.from({ length: count }, (_, i) => -limit + (2 * limit * i) / (count - 1));
}

/** CSS gradient of the whole scale, left (negative) to right (positive). */
export function legendGradient(palette: Palette): string {
  const stops = STOPS[palette];
  return `linear-gradient(to right, ${stops.map((s, i) => `${css(s)} ${((100 * i) / (stops.length - 1)).toFixed(1)}%`).join(', ')})`;
}
