// Train / validation / test, disjoint by the entity asked about: every question about Mongolia lands in the
// same split, so an answer memorised in training does not help on held-out questions. Entities of each kind
// (`country:…`, `element:…`) are shuffled and cut separately, so every split holds both kinds.

import type { Rng } from '../core/rng';
import type { Split } from './types';

export interface SplitFractions {
  readonly trainFraction: number;
  readonly validationFraction: number;
}

function kindOf(entity: string): string {
  const colon = entity.indexOf(':');
  return colon === -1 ? '' : entity.slice(0, colon);
}

export function assignSplits(
  entities: Iterable<string>,
  rng: Rng,
  fractions: SplitFractions,
): ReadonlyMap<string, Split> {
  const byKind = new Map<string, string[]>();
  for (const entity of new Set(entities)) {
    const kind = kindOf(entity);
    byKind.set(kind, [...(byKind.get(kind) ?? []), entity]);
  }
  const out = new Map<string, Split>();
  for (const kind of [...byKind.keys()].sort()) {
    // Sorted before shuffling so the result depends on the seed only, not on the order entities came in.
    const shuffled = rng.fork(`split:${kind}`).shuffled(byKind.get(kind)!.sort());
    const trainEnd = Math.round(shuffled.length * fractions.trainFraction);
    const validationEnd = trainEnd + Math.round(shuffled.length * fractions.validationFraction);
    shuffled.forEach((entity, i) => {
      out.set(entity, i < trainEnd ? 'train' : i < validationEnd ? 'validation' : 'test');
    });
  }
  return out;
}
