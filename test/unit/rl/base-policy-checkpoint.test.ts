// The committed base policy matches the committed corpus: its checkpoint loads, its shape is the one its report
// names, and it was trained on this vocabulary (a rebuilt corpus with other words needs `npm run pretrain`).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../../src/model/checkpoint';
import { paddedVocabSize } from '../../../src/rl/base-policy';
import { committedCorpus } from '../../helpers/corpus';

describe('public/base-policy', () => {
  it('loads, matches its report, and was trained on the committed vocabulary', async () => {
    const { tokenizer } = await committedCorpus();
    const report = JSON.parse(await readFile('public/base-policy.json', 'utf8'));
    const loaded = decodeSafetensors(new Uint8Array(await readFile('public/base-policy.safetensors')));
    if (!loaded.ok) throw new Error(loaded.error);
    expect(loaded.meta.model).toEqual(report.model);
    expect(report.model.vocabSize).toBe(paddedVocabSize(tokenizer.vocabSize));
    const hash = createHash('sha256').update(tokenizer.vocabulary().join('\n')).digest('hex');
    expect(report.tokenizer).toEqual({ vocabSize: tokenizer.vocabSize, vocabSha256: hash });
    expect(loaded.meta.info.vocabHash).toBe(hash);
    expect(report.heldOut.oneHop.questions).toBeGreaterThan(100);
  });
});
