// The advantage scale: orange blamed, purple credited, with tick values.
import { legendGradient, legendTicks, type Palette } from '../view/colour';
import { formatSigned } from '../view/format';

export function ColorLegend({ limit, palette }: { limit: number; palette: Palette }) {
  const ticks = legendTicks(limit);
  return (
    <figure
      className="legend"
      aria-label={`Colour scale: advantage from ${formatSigned(-limit)} (orange) to ${formatSigned(limit)} (purple)`}
    >
      <div className="legend-bar" style={{ background: legendGradient(palette) }} />
      <div className="legend-ticks" aria-hidden="true">
        {ticks.map((t) => (
          <span key={t}>{formatSigned(t, limit < 2 ? 2 : 1)}</span>
        ))}
      </div>
      <figcaption className="legend-words" aria-hidden="true">
        <span>← blamed</span>
        <span>advantage</span>
        <span>credited →</span>
      </figcaption>
    </figure>
  );
}
