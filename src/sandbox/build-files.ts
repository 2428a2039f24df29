// File names of the built corpus in public/corpus/, shared by the builder and both loaders.
export const ARTIFACT_FILES = {
  manifest: 'manifest.json',
  articles: 'articles.json',
  qa: 'qa.json',
  vocabulary: 'vocab.json',
} as const;

/** public/corpus relative to the repository root. */
export const CORPUS_DIR = 'public/corpus';
