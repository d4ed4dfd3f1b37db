import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRefiner, type FetchLike } from '../src/llm/refine.js';
import { CORPUS } from '../src/rag/corpus.js';
import { InsightEngine } from '../src/rag/engine.js';
import { MAX_QUERY_LENGTH } from '../src/routes/insights.js';
import { makeApp, type TestApp } from './helpers.js';

describe('corpus', () => {
  it('has at least 30 documents with unique ids, titles and bodies', () => {
    assert.ok(CORPUS.length >= 30);
    assert.equal(new Set(CORPUS.map((d) => d.id)).size, CORPUS.length);
    for (const doc of CORPUS) {
      assert.match(doc.id, /^mi-\d{3}$/);
      assert.ok(doc.title.length > 5 && doc.body.length > 100, doc.id);
    }
  });
});

describe('InsightEngine', () => {
  const engine = new InsightEngine();

  it('retrieves the document that answers a question', () => {
    assert.equal(engine.search('What discount do customers get for annual billing?')[0]?.id, 'mi-017');
    assert.equal(engine.search('card testing fraud')[0]?.id, 'mi-032');
  });

  it('answers with the best sentence of each top passage, cited', () => {
    const insight = engine.answer('How long is the enterprise sales cycle?');
    assert.equal(insight.citations.length, 3);
    assert.equal(insight.citations[0]?.id, 'mi-018');
    assert.match(insight.answer, /six to nine months to close\. \[mi-018\]/);
    assert.equal(insight.refined, false);
  });

  it('says so when nothing matches', () => {
    const insight = engine.answer('zzzz qqqq');
    assert.deepEqual(insight.citations, []);
    assert.match(insight.answer, /No market intelligence/);
  });

  it('works over a custom corpus', () => {
    const small = new InsightEngine([{ id: 'x-1', title: 'Widgets', tags: [], body: 'Widgets sell well. Gadgets do not.' }]);
    assert.equal(small.documentCount, 1);
    assert.equal(small.answer('gadgets').answer, 'Gadgets do not. [x-1]');
    assert.equal(small.document('nope'), undefined);
  });
});

describe('GET /api/insights', () => {
  let t: TestApp;
  before(async () => (t = await makeApp()));
  after(async () => t.close());

  it('answers with citations', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/insights', query: { q: 'usage-based pricing adoption' } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.citations[0].id, 'mi-003');
    assert.match(body.answer, /\[mi-003\]/);
  });

  it(`rejects a question longer than ${MAX_QUERY_LENGTH} characters naming q`, async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/insights', query: { q: 'a'.repeat(MAX_QUERY_LENGTH + 1) } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().field, 'q');
  });

  it('rejects a missing or blank question naming q', async () => {
    for (const url of ['/api/insights', '/api/insights?q=', '/api/insights?q=%20%20']) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().field, 'q', url);
    }
  });
});

describe('LLM refinement', () => {
  it('uses the refiner when one is configured', async () => {
    const seen: string[] = [];
    const t = await makeApp({
      refiner: async (query, draft, passages) => {
        seen.push(query, draft, passages.map((p) => p.id).join(','));
        return 'Polished answer [mi-004].';
      },
    });
    try {
      const res = await t.app.inject({ method: 'GET', url: '/api/insights?q=smb%20churn' });
      assert.equal(res.json().answer, 'Polished answer [mi-004].');
      assert.equal(res.json().refined, true);
      assert.equal(seen[0], 'smb churn');
      assert.match(seen[2] ?? '', /mi-004/);
    } finally {
      await t.close();
    }
  });

  it('falls back to the extractive answer when the refiner fails', async () => {
    const t = await makeApp({ refiner: async () => Promise.reject(new Error('timeout')) });
    try {
      const res = await t.app.inject({ method: 'GET', url: '/api/insights?q=smb%20churn' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().refined, false);
      assert.match(res.json().answer, /\[mi-004\]/);
    } finally {
      await t.close();
    }
  });

  const reply = (status: number, body: unknown): FetchLike => async () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const passages = CORPUS.slice(0, 1);

  it('has no refiner without keys', () => {
    assert.equal(createRefiner({ openaiApiKey: undefined, anthropicApiKey: undefined }), undefined);
  });

  it('calls the OpenAI chat API with the key and reads the answer', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetchFn: FetchLike = async (url, init) => {
      calls.push({ url, init });
      return reply(200, { choices: [{ message: { content: ' Refined. ' } }] })(url, init);
    };
    const refine = createRefiner({ openaiApiKey: 'sk-o', anthropicApiKey: 'sk-a' }, fetchFn);
    assert.equal(await refine?.('q', 'draft', passages), 'Refined.');
    assert.match(calls[0]?.url ?? '', /chat\/completions$/);
    assert.equal((calls[0]?.init.headers as Record<string, string>).authorization, 'Bearer sk-o');
    assert.match(String(calls[0]?.init.body), /mi-001/);
  });

  it('calls the Anthropic messages API when only its key is set', async () => {
    let headers: Record<string, string> = {};
    const fetchFn: FetchLike = async (url, init) => {
      headers = init.headers as Record<string, string>;
      return reply(200, { content: [{ type: 'text', text: 'Claude says.' }] })(url, init);
    };
    const refine = createRefiner({ openaiApiKey: undefined, anthropicApiKey: 'sk-a' }, fetchFn);
    assert.equal(await refine?.('q', 'draft', passages), 'Claude says.');
    assert.equal(headers['x-api-key'], 'sk-a');
  });

  it('rejects HTTP errors and empty answers', async () => {
    const failing = createRefiner({ openaiApiKey: 'k', anthropicApiKey: undefined }, reply(500, {}));
    await assert.rejects(() => failing!('q', 'd', passages), /HTTP 500/);
    const empty = createRefiner({ openaiApiKey: undefined, anthropicApiKey: 'k' }, reply(200, { content: [] }));
    await assert.rejects(() => empty!('q', 'd', passages), /empty/);
  });
});
