// Question families over the built articles. A draft names its relation, the entity asked about (what the
// split is keyed on), accepted answers and the intended search path (hops). Multi-hop drafts also name their
// bridge: the phrase in the question that the first search resolves (a capital, a demonym, a symbol, …).

import type { Rng } from '../core/rng';
import { cityArticleId, countryArticleId, elementArticleId, symbolArticleId } from './articles';
import type { CountryFacts, ElementFacts } from './sources';
import type { Family, Hop } from './types';

export interface QuestionDraft {
  readonly family: Exclude<Family, 'user'>;
  readonly relation: string;
  readonly entity: string;
  readonly question: string;
  readonly answers: readonly string[];
  readonly hops: readonly Hop[];
  /** Multi-hop only: the question's handle on the first hop. */
  readonly bridge?: string;
  /** Other articles that state the answer too (a border is stated by both neighbours). */
  readonly alsoGold?: readonly string[];
}

// Spellings a person may reasonably give that the package does not use.
const ELEMENT_ALIASES: Readonly<Record<string, readonly string[]>> = {
  Aluminium: ['Aluminum'],
  Cesium: ['Caesium'],
  Sulfur: ['Sulphur'],
};

function unique(items: readonly string[]): string[] {
  return [...new Set(items.filter((s) => s.length > 0))];
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

interface CountryRelation {
  readonly relation: string;
  readonly questions: readonly string[];
  /** phrase used inside "… the country whose capital is X?"-style questions */
  readonly viaCapital: readonly string[];
  readonly query: (c: CountryFacts) => string;
  readonly answers: (c: CountryFacts) => readonly string[];
  readonly alsoGold?: (c: CountryFacts) => readonly string[];
}

export function countryRelations(names: ReadonlyMap<string, readonly string[]>): CountryRelation[] {
  return [
    {
      relation: 'region',
      questions: ['In which region is {name}?', 'Which region of the world is {name} in?'],
      viaCapital: ['In which region is the country whose capital is {bridge}?'],
      query: (c) => `${c.name} region`,
      answers: (c) => (c.region === 'Americas' ? ['Americas', 'the Americas'] : [c.region]),
    },
    {
      relation: 'subregion',
      questions: ['In which subregion is {name}?', 'Which subregion is {name} part of?'],
      viaCapital: ['In which subregion is the country whose capital is {bridge}?'],
      query: (c) => `${c.name} subregion`,
      answers: (c) => [c.subregion],
    },
    {
      relation: 'currency',
      questions: ['What currency is used in {name}?', 'What is the currency of {name}?'],
      viaCapital: ['Which currency is used in the country whose capital is {bridge}?'],
      query: (c) => `currency of ${c.name}`,
      answers: (c) => c.currencies,
    },
    {
      relation: 'language',
      questions: ['What is an official language of {name}?', 'Which language is official in {name}?'],
      viaCapital: ['What is an official language of the country whose capital is {bridge}?'],
      query: (c) => `official language of ${c.name}`,
      answers: (c) => c.languages,
    },
    {
      relation: 'demonym',
      questions: ['What are people from {name} called?', 'What is a person from {name} called?'],
      viaCapital: ['What are people from the country whose capital is {bridge} called?'],
      query: (c) => `people from ${c.name} called`,
      answers: (c) => (c.demonym ? [c.demonym] : []),
    },
    {
      relation: 'borders',
      questions: ['Which country borders {name}?', 'Name a country that shares a land border with {name}.'],
      viaCapital: ['Which country borders the country whose capital is {bridge}?'],
      query: (c) => `${c.name} borders`,
      answers: (c) => c.borders.flatMap((code) => names.get(code) ?? []),
      alsoGold: (c) => c.borders.filter((code) => names.has(code)).map((code) => `country:${code}`),
    },
  ];
}

function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-z]+)\}/g, (_, key: string) => values[key] ?? '');
}

export function countryDrafts(countries: readonly CountryFacts[], rng: Rng): QuestionDraft[] {
  const names = new Map(countries.map((c) => [c.code, unique([c.name, c.officialName])]));
  const relations = countryRelations(names);
  const capitalCounts = countBy(countries.flatMap((c) => c.capitals));
  const demonymCounts = countBy(countries.map((c) => c.demonym));
  const currencyCounts = countBy(countries.flatMap((c) => c.currencies));
  const drafts: QuestionDraft[] = [];
  for (const c of countries) {
    const r = rng.fork(c.code);
    const entity = countryArticleId(c);
    const capitalHop = (i: number): Hop => ({
      query: `capital of ${c.name}`,
      articleId: cityArticleId(c, i),
      answer: c.capitals[i],
    });
    if (c.capitals.length > 0) {
      drafts.push({
        family: 'one-hop',
        relation: 'capital',
        entity,
        question: fill(r.pick(['What is the capital of {name}?', 'Which city is the capital of {name}?']), {
          name: c.name,
        }),
        answers: c.capitals,
        hops: c.capitals.map((_, i) => capitalHop(i)).slice(0, 1),
      });
    }
    for (const rel of relations) {
      const answers = unique(rel.answers(c));
      if (answers.length === 0) continue;
      const finalHop: Hop = { query: rel.query(c), articleId: entity, answer: answers[0] };
      drafts.push({
        family: 'one-hop',
        relation: rel.relation,
        entity,
        question: fill(r.pick(rel.questions), { name: c.name }),
        answers,
        hops: [finalHop],
        alsoGold: rel.alsoGold?.(c),
      });
      // Via the capital: only a capital that names one country, of a country with one capital.
      const capital = c.capitals[0];
      if (c.capitals.length === 1 && capitalCounts.get(capital) === 1) {
        drafts.push({
          family: 'multi-hop',
          relation: `${rel.relation}-via-capital`,
          entity,
          question: fill(r.pick(rel.viaCapital), { bridge: capital }),
          answers,
          hops: [{ query: `capital ${capital}`, articleId: cityArticleId(c, 0), answer: c.name }, finalHop],
          bridge: capital,
          alsoGold: rel.alsoGold?.(c),
        });
      }
    }
    if (c.capitals.length !== 1) continue;
    // Into the capital: from a fact of the country article that names exactly one country.
    if (c.demonym && demonymCounts.get(c.demonym) === 1) {
      drafts.push({
        family: 'multi-hop',
        relation: 'capital-via-demonym',
        entity,
        question: `What is the capital of the country whose people are called ${c.demonym}?`,
        answers: c.capitals,
        hops: [{ query: `people called ${c.demonym}`, articleId: entity, answer: c.name }, capitalHop(0)],
        bridge: c.demonym,
      });
    }
    const currency = c.currencies.find((x) => currencyCounts.get(x) === 1);
    if (currency !== undefined) {
      drafts.push({
        family: 'multi-hop',
        relation: 'capital-via-currency',
        entity,
        question: `What is the capital of the country that uses the ${currency}?`,
        answers: c.capitals,
        hops: [{ query: `currency ${currency}`, articleId: entity, answer: c.name }, capitalHop(0)],
        bridge: currency,
      });
    }
  }
  return drafts;
}

interface ElementRelation {
  readonly relation: string;
  readonly question: string;
  readonly viaSymbol: string;
  readonly query: (e: ElementFacts) => string;
  readonly answers: (e: ElementFacts) => readonly string[];
}

const ELEMENT_RELATIONS: readonly ElementRelation[] = [
  {
    relation: 'atomic-number',
    question: 'What is the atomic number of {name}?',
    viaSymbol: 'What is the atomic number of the element with the symbol {bridge}?',
    query: (e) => `atomic number of ${e.name}`,
    answers: (e) => [String(e.number)],
  },
  {
    relation: 'atomic-mass',
    question: 'What is the atomic mass of {name}?',
    viaSymbol: 'What is the atomic mass of the element with the symbol {bridge}?',
    query: (e) => `atomic mass of ${e.name}`,
    answers: (e) => [e.mass, String(Math.round(Number(e.mass)))],
  },
  {
    relation: 'period',
    question: 'In which period of the periodic table is {name}?',
    viaSymbol: 'In which period is the element with the symbol {bridge}?',
    query: (e) => `period of ${e.name}`,
    answers: (e) => [String(e.period)],
  },
  {
    relation: 'group',
    question: 'In which group of the periodic table is {name}?',
    viaSymbol: 'In which group is the element with the symbol {bridge}?',
    query: (e) => `group of ${e.name}`,
    answers: (e) => (e.group === null ? [] : [String(e.group)]),
  },
];

export function elementDrafts(elements: readonly ElementFacts[]): QuestionDraft[] {
  const drafts: QuestionDraft[] = [];
  for (const e of elements) {
    const entity = elementArticleId(e);
    const names = [e.name, ...(ELEMENT_ALIASES[e.name] ?? [])];
    const symbolHop: Hop = { query: `symbol of ${e.name}`, articleId: symbolArticleId(e), answer: e.symbol };
    drafts.push({
      family: 'one-hop',
      relation: 'symbol',
      entity,
      question: `What is the chemical symbol of ${e.name}?`,
      answers: [e.symbol],
      hops: [symbolHop],
    });
    drafts.push({
      family: 'one-hop',
      relation: 'element-by-symbol',
      entity,
      question: `Which element has the chemical symbol ${e.symbol}?`,
      answers: names,
      hops: [{ query: `chemical symbol ${e.symbol}`, articleId: symbolArticleId(e), answer: e.name }],
    });
    drafts.push({
      family: 'multi-hop',
      relation: 'symbol-via-number',
      entity,
      question: `What is the chemical symbol of the element with atomic number ${e.number}?`,
      answers: [e.symbol],
      hops: [{ query: `atomic number ${e.number}`, articleId: entity, answer: e.name }, symbolHop],
      bridge: String(e.number),
    });
    for (const rel of ELEMENT_RELATIONS) {
      const answers = unique(rel.answers(e));
      if (answers.length === 0) continue;
      const finalHop: Hop = { query: rel.query(e), articleId: entity, answer: answers[0] };
      drafts.push({
        family: 'one-hop',
        relation: rel.relation,
        entity,
        question: fill(rel.question, { name: e.name }),
        answers,
        hops: [finalHop],
      });
      drafts.push({
        family: 'multi-hop',
        relation: `${rel.relation}-via-symbol`,
        entity,
        question: fill(rel.viaSymbol, { bridge: e.symbol }),
        answers,
        hops: [
          { query: `chemical symbol ${e.symbol}`, articleId: symbolArticleId(e), answer: e.name },
          finalHop,
        ],
        bridge: e.symbol,
      });
    }
  }
  return drafts;
}
