// Facts read from the npm packages the corpus is built from. Node-only (build time and tests); the browser
// loads the built JSON from public/corpus/ instead.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChemElementData } from '@chemistry/elements';
import countries from 'world-countries';
import type { SourcePackage } from './types';

export interface CountryFacts {
  /** ISO 3166-1 alpha-3, lower case */
  readonly code: string;
  readonly name: string;
  readonly officialName: string;
  readonly capitals: readonly string[];
  readonly region: string;
  readonly subregion: string;
  readonly currencies: readonly string[];
  readonly languages: readonly string[];
  readonly demonym: string;
  /** codes of neighbouring countries */
  readonly borders: readonly string[];
}

export interface ElementFacts {
  readonly number: number;
  readonly symbol: string;
  readonly name: string;
  /** standard atomic weight, at most three decimals ("55.845", "226") */
  readonly mass: string;
  readonly period: number;
  /** null for the f-block (lanthanides and actinides) */
  readonly group: number | null;
}

export function countryFacts(): CountryFacts[] {
  return countries
    .map((c) => ({
      code: c.cca3.toLowerCase(),
      name: c.name.common,
      officialName: c.name.official,
      capitals: c.capital,
      region: c.region,
      subregion: c.subregion,
      currencies: Object.values(c.currencies).map((x) => x.name),
      languages: Object.values(c.languages),
      demonym: c.demonyms.eng?.m ?? '',
      borders: c.borders.map((b) => b.toLowerCase()),
    }))
    .sort((a, b) => (a.code < b.code ? -1 : 1));
}

// The package also lists a placeholder "Dummy" (id 0) and deuterium (symbol D, id 1): one entry per element.
export function elementFacts(): ElementFacts[] {
  const seen = new Set<number>();
  const out: ElementFacts[] = [];
  for (const e of ChemElementData) {
    if (e.id < 1 || e.symbol === 'D' || seen.has(e.id)) continue;
    seen.add(e.id);
    // posX is the table row: 1–7 are periods, 9 and 10 the lanthanide and actinide rows (periods 6 and 7).
    const fBlock = e.posX > 7;
    out.push({
      number: e.id,
      symbol: e.symbol,
      name: e.name,
      mass: String(Number(e.mass.toFixed(3))),
      period: fBlock ? e.posX - 3 : e.posX,
      group: fBlock ? null : e.posY,
    });
  }
  return out.sort((a, b) => a.number - b.number);
}

// Neither package exports its package.json, so it is found the way Node finds the package: the nearest
// node_modules/<name> walking up from this file.
function packageManifestPath(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find the installed package ${name}`);
  }
}

export function sourcePackages(): SourcePackage[] {
  const read = (name: string): SourcePackage => {
    const pkg = JSON.parse(readFileSync(packageManifestPath(name), 'utf8')) as {
      version: string;
      license?: string;
      licenses?: { type: string }[];
    };
    return {
      name,
      version: pkg.version,
      license: pkg.license ?? pkg.licenses?.map((l) => l.type).join(' OR ') ?? '',
    };
  };
  return [read('world-countries'), read('@chemistry/elements')];
}
