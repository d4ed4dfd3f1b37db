import type { LlmSettings } from '../config.js';
import type { MarketDocument } from '../rag/corpus.js';

/** Rewrites an extractive answer in fluent prose, citing the same documents. */
export type Refiner = (query: string, draft: string, passages: readonly MarketDocument[]) => Promise<string>;

/** The subset of fetch that the refiners use; injectable so tests never touch the network. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

const OPENAI_URL = 'https://api.openai.com/v1/chat/completions';
const ANTHROPIC_URL = 'https://api.anthropic.com/v1/messages';
const TIMEOUT_MS = 5_000;

function prompt(query: string, draft: string, passages: readonly MarketDocument[]): string {
  const context = passages.map((p) => `[${p.id}] ${p.title}: ${p.body}`).join('\n');
  return (
    'Answer the question using only the passages below. Keep the [id] citations. ' +
    'At most four sentences.\n\n' +
    `Passages:\n${context}\n\nDraft answer: ${draft}\n\nQuestion: ${query}`
  );
}

async function postJson(fetchFn: FetchLike, url: string, headers: Record<string, string>, body: unknown): Promise<unknown> {
  const response = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`LLM request failed with HTTP ${response.status}`);
  return response.json();
}

function nonEmptyText(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new Error('LLM answer was empty');
  return value.trim();
}

/** Picks a refiner from the configured keys (OpenAI first), or undefined when none is set. */
export function createRefiner(settings: LlmSettings, fetchFn: FetchLike = fetch): Refiner | undefined {
  const { openaiApiKey, anthropicApiKey } = settings;
  if (openaiApiKey !== undefined) {
    return async (query, draft, passages) => {
      const json = (await postJson(fetchFn, OPENAI_URL, { authorization: `Bearer ${openaiApiKey}` }, {
        model: 'gpt-4o-mini',
        temperature: 0.2,
        messages: [{ role: 'user', content: prompt(query, draft, passages) }],
      })) as { choices?: { message?: { content?: unknown } }[] };
      return nonEmptyText(json.choices?.[0]?.message?.content);
    };
  }
  if (anthropicApiKey !== undefined) {
    return async (query, draft, passages) => {
      const json = (await postJson(
        fetchFn,
        ANTHROPIC_URL,
        { 'x-api-key': anthropicApiKey, 'anthropic-version': '2023-06-01' },
        {
          model: 'claude-3-5-haiku-latest',
          max_tokens: 400,
          messages: [{ role: 'user', content: prompt(query, draft, passages) }],
        },
      )) as { content?: { type?: string; text?: unknown }[] };
      return nonEmptyText(json.content?.find((c) => c.type === 'text')?.text);
    };
  }
  return undefined;
}
