import MiniSearch from 'minisearch';
import { CORPUS, type MarketDocument } from './corpus.js';
import { normalizeTerm, sentences, terms } from './text.js';

/** A retrieved document with its relevance score. */
export interface Citation {
  id: string;
  title: string;
  score: number;
}

/** An answer to a market question, with the documents it was drawn from. */
export interface Insight {
  query: string;
  answer: string;
  citations: Citation[];
  refined: boolean;
}

/** How many passages an answer is built from. */
export const DEFAULT_TOP_K = 3;

function bestSentence(body: string, queryTerms: string[]): string {
  let best = '';
  let bestScore = -1;
  for (const sentence of sentences(body)) {
    const words = terms(sentence);
    const score = queryTerms.filter((q) => words.some((w) => w.startsWith(q) || q.startsWith(w))).length;
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  return best;
}

/** Retrieval over the bundled market-intelligence corpus, with extractive answers. */
export class InsightEngine {
  private readonly index: MiniSearch<MarketDocument>;
  private readonly byId: Map<string, MarketDocument>;

  constructor(documents: readonly MarketDocument[] = CORPUS) {
    this.index = new MiniSearch<MarketDocument>({
      fields: ['title', 'tags', 'body'],
      extractField: (doc, field) => {
        const value = doc[field as keyof MarketDocument];
        return Array.isArray(value) ? value.join(' ') : (value as string);
      },
      processTerm: normalizeTerm,
      searchOptions: {
        boost: { title: 2, tags: 1.5 },
        prefix: (term) => term.length > 3,
        fuzzy: (term) => (term.length > 5 ? 0.2 : false),
        processTerm: normalizeTerm,
      },
    });
    this.index.addAll(documents as MarketDocument[]);
    this.byId = new Map(documents.map((d) => [d.id, d]));
  }

  /** Number of documents in the index. */
  get documentCount(): number {
    return this.index.documentCount;
  }

  /** Looks a document up by id. */
  document(id: string): MarketDocument | undefined {
    return this.byId.get(id);
  }

  /** The best-matching documents for a question, best first. */
  search(query: string, limit: number = DEFAULT_TOP_K): Citation[] {
    return this.index
      .search(query)
      .slice(0, limit)
      .map((hit) => ({
        id: hit.id as string,
        title: (this.byId.get(hit.id as string) as MarketDocument).title,
        score: Math.round(hit.score * 1000) / 1000,
      }));
  }

  /** An extractive answer: the most relevant sentence of each top passage, each cited. */
  answer(query: string, limit: number = DEFAULT_TOP_K): Insight {
    const citations = this.search(query, limit);
    if (citations.length === 0) {
      return {
        query,
        answer: 'No market intelligence in the corpus matches this question.',
        citations,
        refined: false,
      };
    }
    const queryTerms = terms(query);
    const parts = citations.map((c) => {
      const doc = this.byId.get(c.id) as MarketDocument;
      return `${bestSentence(doc.body, queryTerms)} [${c.id}]`;
    });
    return { query, answer: parts.join(' '), citations, refined: false };
  }
}
