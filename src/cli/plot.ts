// Line charts as SVG, and SVG → PNG through headless Chromium (Debian's, driven by playwright-core), so the
// experiment's figure needs no canvas library.
import { writeFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface Panel {
  readonly title: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly yMax?: number;
}

const escapeXml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Panels side by side, shared legend; y from 0 to yMax (or the data's max). */
export function lineChartSvg(panels: readonly Panel[], width = 540, height = 340): string {
  const pad = { left: 56, right: 16, top: 36, bottom: 48 };
  const parts: string[] = [];
  panels.forEach((panel, p) => {
    const x0 = p * width;
    const xs = panel.series.flatMap((s) => s.points.map((pt) => pt[0]));
    const ys = panel.series.flatMap((s) => s.points.map((pt) => pt[1]));
    const xMin = Math.min(...xs, 0);
    const xMax = Math.max(...xs, 1);
    const yMax = panel.yMax ?? Math.max(...ys, 1e-9) * 1.05;
    const sx = (x: number) =>
      x0 + pad.left + ((x - xMin) / (xMax - xMin || 1)) * (width - pad.left - pad.right);
    const sy = (y: number) => pad.top + (1 - y / yMax) * (height - pad.top - pad.bottom);
    parts.push(
      `<text x="${x0 + width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(panel.title)}</text>`,
    );
    for (let i = 0; i <= 4; i++) {
      const y = (yMax * i) / 4;
      parts.push(`<line x1="${sx(xMin)}" x2="${sx(xMax)}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
      parts.push(
        `<text x="${sx(xMin) - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11">${y.toFixed(2)}</text>`,
      );
    }
    parts.push(
      `<text x="${x0 + width / 2}" y="${height - 10}" text-anchor="middle" font-size="12">step</text>`,
    );
    parts.push(`<text x="${sx(xMax)}" y="${height - 28}" text-anchor="end" font-size="11">${xMax}</text>`);
    parts.push(`<text x="${sx(xMin)}" y="${height - 28}" font-size="11">${xMin}</text>`);
    parts.push(
      `<text transform="translate(${x0 + 14},${height / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(panel.yLabel)}</text>`,
    );
    for (const s of panel.series) {
      const d = s.points
        .map((pt, i) => `${i === 0 ? 'M' : 'L'}${sx(pt[0]).toFixed(1)},${sy(pt[1]).toFixed(1)}`)
        .join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.2"/>`);
    }
  });
  const legend = panels[0]?.series ?? [];
  legend.forEach((s, i) => {
    const x = 70 + i * 180;
    parts.push(`<rect x="${x}" y="${height + 8}" width="14" height="14" fill="${s.color}"/>`);
    parts.push(`<text x="${x + 20}" y="${height + 20}" font-size="13">${escapeXml(s.label)}</text>`);
  });
  const w = width * panels.length;
  const h = height + 32;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
}

export async function svgToPng(svg: string, path: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  try {
    const match = /width="(\d+)" height="(\d+)"/.exec(svg);
    const page = await browser.newPage({
      viewport: { width: Number(match?.[1] ?? 800), height: Number(match?.[2] ?? 400) },
    });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    await writeFile(path, await page.screenshot({ type: 'png' }));
  } finally {
    await browser.close();
  }
}
