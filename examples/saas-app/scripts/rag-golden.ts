/** A question and the corpus documents that answer it. */
export interface GoldenQuestion {
  question: string;
  relevant: readonly string[];
}

/** The golden set for `npm run test:rag`, written as a customer would ask. */
export const GOLDEN: readonly GoldenQuestion[] = [
  { question: 'How big is the CRM market for small businesses?', relevant: ['mi-001'] },
  { question: 'What is a typical net revenue retention for B2B software?', relevant: ['mi-002'] },
  { question: 'How many vendors charge by consumption or API calls?', relevant: ['mi-003'] },
  { question: 'What monthly churn should an SMB SaaS expect?', relevant: ['mi-004'] },
  { question: 'How many months does it take to pay back customer acquisition cost?', relevant: ['mi-005'] },
  { question: 'Do growth plus profit margin need to add up to 40 percent?', relevant: ['mi-006'] },
  { question: 'What do companies charge for an AI assistant add-on per user?', relevant: ['mi-007'] },
  { question: 'Do European customers require data to stay in the EU?', relevant: ['mi-008'] },
  { question: 'What share of freemium sign-ups become paying customers?', relevant: ['mi-009'] },
  { question: 'Is software for medical clinics a growing vertical?', relevant: ['mi-010'] },
  { question: 'Why are observability and logging bills a problem?', relevant: ['mi-012'] },
  { question: 'How much do card processing fees cost a SaaS company?', relevant: ['mi-013'] },
  { question: 'Which payment methods matter in Brazil and Mexico?', relevant: ['mi-014'] },
  { question: 'How did layoffs affect per-seat contracts at renewal?', relevant: ['mi-016'] },
  { question: 'What discount do customers get for paying annually?', relevant: ['mi-017'] },
  { question: 'How long does it take to close a large enterprise deal?', relevant: ['mi-018'] },
  { question: 'Why buy software through a cloud marketplace?', relevant: ['mi-019'] },
  { question: 'Why are gross margins lower for products built on LLMs?', relevant: ['mi-020'] },
  { question: 'Are hybrid keyword and vector search better for retrieval?', relevant: ['mi-023'] },
  { question: 'How much can FinOps cut cloud spend?', relevant: ['mi-024'] },
  { question: 'How much ARR does one customer success manager cover?', relevant: ['mi-025'] },
  { question: 'Do enterprise buyers require a SOC 2 report?', relevant: ['mi-027'] },
  { question: 'Why did infrastructure companies switch to the BSL license?', relevant: ['mi-030'] },
  { question: 'How do fraudsters use checkout pages to test stolen cards?', relevant: ['mi-032'] },
  { question: 'How is usage revenue recognized under ASC 606?', relevant: ['mi-033'] },
  { question: 'What revenue multiple do public SaaS companies trade at?', relevant: ['mi-034'] },
  { question: 'Which failed payments cause churn and how is it recovered?', relevant: ['mi-004'] },
  { question: 'What does it take to sell software in Japan?', relevant: ['mi-031'] },
  { question: 'Should we ask for a credit card before the trial starts?', relevant: ['mi-009'] },
  { question: 'Are buyers pushing back on software price hikes?', relevant: ['mi-026'] },
  { question: 'Which tools are marketers dropping from their stack?', relevant: ['mi-028'] },
  { question: 'Is Postgres good enough for storing embeddings?', relevant: ['mi-023'] },
  { question: 'How do startups from India compete on price?', relevant: ['mi-015'] },
  { question: 'What is the cheapest way for large customers to pay us?', relevant: ['mi-013'] },
  { question: 'When do small businesses switch payroll providers?', relevant: ['mi-021'] },
  { question: 'How are security teams reducing alert fatigue?', relevant: ['mi-011'] },
];
