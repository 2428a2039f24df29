// One short article per entity, written from templates with some variety in wording. The split of facts
// across articles is what makes multi-hop questions multi-hop:
//
//   city:<country>-<i>   "Ulan Bator is the capital of Mongolia."   capital ↔ country, nothing else
//   country:<code>       location, currency, languages, demonym, borders — never the capital
//   symbol:<number>      "Fe is the chemical symbol of Iron."       symbol ↔ element, nothing else
//   element:<number>     atomic number, mass, period, group — never the symbol
//
// Every sentence names its subject, so each passage (a sentence or two) is retrievable on its own.

import type { Rng } from '../core/rng';
import type { CountryFacts, ElementFacts } from './sources';
import type { Article } from './types';

type Fill = Readonly<Record<string, string>>;

function render(template: string, fill: Fill): string {
  return template.replace(/\{([a-z]+)\}/g, (_, key: string) => fill[key] ?? '');
}

/** "A", "A and B", "A, B and C" */
export function listPhrase(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function cityArticleId(country: CountryFacts, index: number): string {
  return `city:${country.code}-${index}`;
}
export const countryArticleId = (country: CountryFacts): string => `country:${country.code}`;
export const elementArticleId = (element: ElementFacts): string => `element:${element.number}`;
export const symbolArticleId = (element: ElementFacts): string => `symbol:${element.number}`;

const CITY = {
  sole: ['{city} is the capital of {country}.', '{city} is the capital city of {country}.'],
  shared: ['{city} is one of the capitals of {country}.', '{city} is a capital city of {country}.'],
  seat: ['The government of {country} sits in {city}.', '{city} is the seat of government of {country}.'],
};

export function cityArticles(country: CountryFacts, rng: Rng): Article[] {
  const shared = country.capitals.length > 1;
  return country.capitals.map((city, i) => {
    const fill = { city, country: country.name };
    const first = render(rng.pick(shared ? CITY.shared : CITY.sole), fill);
    const text = shared ? first : `${first} ${render(rng.pick(CITY.seat), fill)}`;
    return { id: cityArticleId(country, i), title: city, text };
  });
}

const COUNTRY = {
  location: [
    '{name} is a country in the subregion of {subregion}, in the {region} region.',
    '{name} lies in the {subregion} subregion of the {region} region.',
    '{name} is located in the subregion {subregion}, part of the {region} region.',
  ],
  regionOnly: ['{name} is located in the {region} region.', '{name} lies in the {region} region.'],
  currency: ['The currency of {name} is the {currency}.', '{name} uses the {currency} as its currency.'],
  currencies: ['The currency of {name} is the {currency}, alongside the {more}.'],
  language: [
    'The official language of {name} is {language}.',
    '{name} has {language} as its official language.',
  ],
  languages: [
    'The official languages of {name} are {language}.',
    'In {name} the official languages are {language}.',
  ],
  demonym: [
    'People from {name} are called {demonym}.',
    'The people of {name} are called {demonym}.',
    'People in {name} are called {demonym}.',
  ],
  borders: ['{name} borders {list}.', '{name} shares land borders with {list}.'],
  moreBorders: ['{name} also borders {list}.'],
  island: ['{name} has no land borders.', '{name} shares no land border with another country.'],
};

/** Country names used in other countries' border sentences. */
export type CountryNames = ReadonlyMap<string, string>;

export function countryArticle(country: CountryFacts, names: CountryNames, rng: Rng): Article {
  const fill = { name: country.name, region: country.region, subregion: country.subregion };
  const sentences: string[] = [];
  sentences.push(render(rng.pick(country.subregion ? COUNTRY.location : COUNTRY.regionOnly), fill));
  const [currency, ...more] = country.currencies;
  if (currency !== undefined) {
    const templates = more.length > 0 ? COUNTRY.currencies : COUNTRY.currency;
    sentences.push(render(rng.pick(templates), { ...fill, currency, more: listPhrase(more) }));
  }
  if (country.languages.length > 0) {
    const templates = country.languages.length > 1 ? COUNTRY.languages : COUNTRY.language;
    sentences.push(render(rng.pick(templates), { ...fill, language: listPhrase(country.languages) }));
  }
  if (country.demonym)
    sentences.push(render(rng.pick(COUNTRY.demonym), { ...fill, demonym: country.demonym }));
  const neighbours = country.borders
    .map((code) => names.get(code))
    .filter((n): n is string => n !== undefined);
  if (neighbours.length === 0) {
    sentences.push(render(rng.pick(COUNTRY.island), fill));
  } else {
    // Four names per sentence keeps every passage short.
    for (let at = 0; at < neighbours.length; at += 4) {
      const templates = at === 0 ? COUNTRY.borders : COUNTRY.moreBorders;
      sentences.push(
        render(rng.pick(templates), { ...fill, list: listPhrase(neighbours.slice(at, at + 4)) }),
      );
    }
  }
  return { id: countryArticleId(country), title: country.name, text: sentences.join(' ') };
}

const ELEMENT = {
  number: [
    '{name} is a chemical element with atomic number {number}.',
    'The atomic number of {name} is {number}.',
    '{name} has the atomic number {number}.',
  ],
  mass: ['The atomic mass of {name} is {mass}.', '{name} has an atomic mass of {mass}.'],
  period: [
    '{name} is in period {period} of the periodic table.',
    '{name} sits in period {period} of the table.',
  ],
  group: ['{name} belongs to group {group}.', '{name} is in group {group} of the periodic table.'],
  fBlock: ['{name} is one of the {series}.', '{name} belongs to the {series}.'],
};

export function elementArticle(element: ElementFacts, rng: Rng): Article {
  const fill = {
    name: element.name,
    number: String(element.number),
    mass: element.mass,
    period: String(element.period),
    group: String(element.group ?? ''),
    series: element.period === 6 ? 'lanthanides' : 'actinides',
  };
  const sentences = [ELEMENT.number, ELEMENT.mass, ELEMENT.period].map((t) => render(rng.pick(t), fill));
  sentences.push(render(rng.pick(element.group === null ? ELEMENT.fBlock : ELEMENT.group), fill));
  return { id: elementArticleId(element), title: element.name, text: sentences.join(' ') };
}

const SYMBOL = [
  '{symbol} is the chemical symbol of {name}.',
  'The chemical symbol {symbol} stands for {name}.',
];

export function symbolArticle(element: ElementFacts, rng: Rng): Article {
  const text = render(rng.pick(SYMBOL), { symbol: element.symbol, name: element.name });
  return { id: symbolArticleId(element), title: element.symbol, text };
}
