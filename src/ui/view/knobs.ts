// How each knob of the table is edited: a checkbox, a select of its enum values, or a text field (text, so a
// learning rate can be typed as 3e-4). Derived from the knob table; nothing here is per-knob.
import { KNOB_KEYS, type KnobGroup, type KnobKey, knobSpec } from '../../core/config';

export type KnobControl =
  | { readonly kind: 'boolean' }
  | { readonly kind: 'enum'; readonly options: readonly string[] }
  | { readonly kind: 'number' };

export function knobControl(key: KnobKey): KnobControl {
  const spec = knobSpec(key);
  if (typeof spec.default === 'boolean') return { kind: 'boolean' };
  const schema: object = spec.schema;
  if ('options' in schema && Array.isArray(schema.options)) {
    return { kind: 'enum', options: schema.options.filter((o): o is string => typeof o === 'string') };
  }
  return { kind: 'number' };
}

/** Groups in the order a person tunes them: the RL knobs first, what needs a fresh run last. */
export const GROUP_ORDER: readonly { readonly group: KnobGroup; readonly title: string }[] = [
  { group: 'advantage', title: 'Advantage (credit assignment)' },
  { group: 'loss', title: 'Policy loss' },
  { group: 'optimizer', title: 'Optimiser' },
  { group: 'rollout', title: 'Rollouts & sampling' },
  { group: 'reward', title: 'Reward weights' },
  { group: 'sandbox', title: 'Search sandbox' },
  { group: 'run', title: 'Run' },
  { group: 'model', title: 'Model shape' },
];

export function knobsOf(group: KnobGroup): KnobKey[] {
  return KNOB_KEYS.filter((k) => knobSpec(k).group === group);
}
