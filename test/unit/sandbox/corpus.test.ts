import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCorpusArtifacts, serializeArtifacts } from '../../../src/sandbox/build';
import { DEFAULT_CORPUS_PATH } from '../../../src/sandbox/load-node';
import { passagesOf } from '../../../src/sandbox/passages';
import { retrievalRecall } from '../../../src/sandbox/recall';
import { containsAnyPhrase, countTokens } from '../../../src/sandbox/text';
import { committedCorpus } from '../../helpers/corpus';

describe('corpus build', () => {
  it('is deterministic and the committed public/corpus files are fresh', () => {
    const files = serializeArtifacts(buildCorpusArtifacts());
    for (const [file, contents] of Object.entries(files)) {
      // On failure: run `npm run build:corpus` and commit public/corpus/.
      expect(readFileSync(join(DEFAULT_CORPUS_PATH, file), 'utf8'), file).toBe(contents);
    }
  });

  it('records the source packages with versions and licences', async () => {
    const { artifacts } = await committedCorpus();
    expect(artifacts.manifest.sources.map((s) => s.name)).toEqual(['world-countries', '@chemistry/elements']);
    for (const s of artifacts.manifest.sources) expect(s.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('tasks and splits', () => {
  it('has at least 1,000 train and 200 test questions per family', async () => {
    const { artifacts } = await committedCorpus();
    for (const family of ['one-hop', 'multi-hop']) {
      const items = artifacts.qa.filter((q) => q.family === family);
      expect(items.filter((q) => q.split === 'train').length).toBeGreaterThanOrEqual(1000);
      expect(items.filter((q) => q.split === 'test').length).toBeGreaterThanOrEqual(200);
      expect(items.filter((q) => q.split === 'validation').length).toBeGreaterThan(0);
    }
  });

  it('splits by the entity asked about: no entity in two splits', async () => {
    const { artifacts } = await committedCorpus();
    const splitOf = new Map<string, string>();
    for (const q of artifacts.qa) {
      expect(splitOf.get(q.entity) ?? q.split, q.id).toBe(q.split);
      splitOf.set(q.entity, q.split);
    }
  });

  it('has unique ids and questions, and no question that contains its answer', async () => {
    const { artifacts } = await committedCorpus();
    expect(new Set(artifacts.qa.map((q) => q.id)).size).toBe(artifacts.qa.length);
    expect(new Set(artifacts.qa.map((q) => q.question.toLowerCase())).size).toBe(artifacts.qa.length);
    for (const q of artifacts.qa) expect(containsAnyPhrase(q.question, q.answers), q.id).toBe(false);
  });

  it('every hop article holds what the hop yields, and the gold article holds an answer', async () => {
    const { artifacts } = await committedCorpus();
    const text = new Map(artifacts.articles.map((a) => [a.id, a.text]));
    for (const q of artifacts.qa) {
      q.hops.forEach((hop, i) => {
        const yields = i === q.hops.length - 1 ? q.answers : [hop.answer];
        expect(containsAnyPhrase(text.get(hop.articleId) ?? '', yields), `${q.id} hop ${i}`).toBe(true);
      });
      expect(
        q.goldArticleIds.some((id) => containsAnyPhrase(text.get(id) ?? '', q.answers)),
        q.id,
      ).toBe(true);
    }
  });

  it("multi-hop: for EVERY question the first hop's article does not contain the final answer (any alias)", async () => {
    const { artifacts } = await committedCorpus();
    const text = new Map(artifacts.articles.map((a) => [a.id, a.text]));
    const multi = artifacts.qa.filter((q) => q.family === 'multi-hop');
    expect(multi.length).toBeGreaterThan(1200);
    for (const q of multi) {
      expect(q.hops.length, q.id).toBeGreaterThanOrEqual(2);
      expect(q.hops[0].articleId).not.toBe(q.hops[q.hops.length - 1].articleId);
      expect(containsAnyPhrase(text.get(q.hops[0].articleId)!, q.answers), q.id).toBe(false);
    }
  });
});

describe('passages and retrieval', () => {
  it('cuts articles into short passages that keep their article id and title', async () => {
    const { artifacts, passages } = await committedCorpus();
    expect(passages.length).toBe(artifacts.manifest.passageCount);
    for (const p of passages) {
      expect(countTokens(p.text)).toBeLessThanOrEqual(30);
      expect(p.id.startsWith(`${p.articleId}#`)).toBe(true);
    }
    const [first] = passagesOf([
      { id: 'x', title: 'X', text: 'A <result> b </result> c. Washington D.C. is big.' },
    ]);
    expect(first.text).toBe('a b c . washington d . c . is big .');
  });

  it('recall@1 of the gold article with the natural query is at least 0.95 for 1-hop questions', async () => {
    const { engine, artifacts } = await committedCorpus();
    const report = retrievalRecall(engine, artifacts.qa, 5);
    console.log(
      `recall@1 ${report.recallAt1.toFixed(4)}, recall@5 ${report.recallAtK.toFixed(4)} over ${report.questions} 1-hop questions`,
      report.byRelation,
    );
    expect(report.questions).toBeGreaterThan(2000);
    expect(report.recallAt1).toBeGreaterThanOrEqual(0.95);
    expect(report.recallAtK).toBeGreaterThanOrEqual(report.recallAt1);
  });
});
