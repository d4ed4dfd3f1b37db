/**
 * Retrieval quality against the golden set: recall@3 averaged over questions, failing
 * below the threshold. Uses the same engine the /api/insights route serves.
 */
import { InsightEngine } from '../src/rag/engine.js';
import { GOLDEN } from './rag-golden.js';

const K = 3;
const THRESHOLD = 0.9;

function main(): number {
  const started = performance.now();
  const engine = new InsightEngine();
  let recallSum = 0;
  let reciprocalRankSum = 0;
  for (const { question, relevant } of GOLDEN) {
    const ranked = engine.search(question, 10).map((c) => c.id);
    const topK = ranked.slice(0, K);
    const found = relevant.filter((id) => topK.includes(id)).length;
    recallSum += found / relevant.length;
    const firstRank = ranked.findIndex((id) => relevant.includes(id));
    reciprocalRankSum += firstRank === -1 ? 0 : 1 / (firstRank + 1);
    const mark = found === relevant.length ? 'ok  ' : found > 0 ? 'part' : 'MISS';
    console.log(`test:rag: ${mark} ${question} -> [${topK.join(', ')}] want [${relevant.join(', ')}]`);
  }
  const recall = recallSum / GOLDEN.length;
  const mrr = reciprocalRankSum / GOLDEN.length;
  const ms = Math.round(performance.now() - started);
  console.log(
    `test:rag: ${GOLDEN.length} questions over ${engine.documentCount} documents: ` +
      `recall@${K} = ${recall.toFixed(3)}, MRR = ${mrr.toFixed(3)} (threshold ${THRESHOLD}) in ${ms} ms`,
  );
  if (recall < THRESHOLD) {
    console.error(`test:rag: FAILED: recall@${K} ${recall.toFixed(3)} is below ${THRESHOLD}`);
    return 1;
  }
  console.log(`test:rag: passed`);
  return 0;
}

process.exit(main());
