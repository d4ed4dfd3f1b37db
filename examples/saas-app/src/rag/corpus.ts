/** One market-intelligence note that the insights engine can cite. */
export interface MarketDocument {
  id: string;
  title: string;
  tags: readonly string[];
  body: string;
}

/**
 * The bundled corpus. The figures are synthetic and illustrative, written for this sample
 * app so that it ships self-contained; they are not sourced research.
 */
export const CORPUS: readonly MarketDocument[] = [
  {
    id: 'mi-001',
    title: 'SMB CRM market size and growth',
    tags: ['crm', 'smb', 'market size'],
    body:
      'The small and mid-sized business CRM segment is estimated at $18B in annual spend and growing about 11% a year. ' +
      'Growth comes mostly from first-time buyers replacing spreadsheets, not from switching between vendors. ' +
      'Bundled suites that include email marketing and invoicing win most new SMB deals.',
  },
  {
    id: 'mi-002',
    title: 'Net revenue retention benchmarks',
    tags: ['nrr', 'retention', 'expansion'],
    body:
      'Median net revenue retention for public B2B SaaS companies fell from about 120% in 2021 to roughly 108% by 2024. ' +
      'Companies selling to enterprises keep NRR near 115%, while SMB-focused vendors sit closer to 100%. ' +
      'Expansion revenue from upsells and extra seats is the main lever above 100%.',
  },
  {
    id: 'mi-003',
    title: 'Usage-based pricing adoption',
    tags: ['pricing', 'usage-based', 'consumption'],
    body:
      'About 60% of SaaS vendors now charge at least partly by usage, such as API calls, compute minutes or records processed. ' +
      'Hybrid models with a platform fee plus metered overage are the most common design. ' +
      'Usage pricing lowers the barrier to the first purchase but makes revenue forecasting harder for finance teams.',
  },
  {
    id: 'mi-004',
    title: 'Customer churn benchmarks by segment',
    tags: ['churn', 'retention', 'smb', 'enterprise'],
    body:
      'Monthly logo churn for SMB SaaS typically runs between 3% and 5%, which compounds to losing a third or more of customers each year. ' +
      'Enterprise contracts show annual gross churn of 5% to 8%. ' +
      'Failed card payments cause up to a fifth of SMB churn; automated dunning and card updater services recover much of it.',
  },
  {
    id: 'mi-005',
    title: 'Customer acquisition cost payback',
    tags: ['cac', 'payback', 'unit economics', 'sales efficiency'],
    body:
      'CAC payback periods lengthened to a median of about 20 months in 2024, up from 15 months two years earlier. ' +
      'Self-serve products recover acquisition cost fastest, often within 12 months. ' +
      'Investors treat payback beyond 24 months as a warning sign for sales efficiency.',
  },
  {
    id: 'mi-006',
    title: 'The Rule of 40 in practice',
    tags: ['rule of 40', 'growth', 'profitability', 'valuation'],
    body:
      'The Rule of 40 says revenue growth rate plus profit margin should reach at least 40%. ' +
      'Fewer than a third of public SaaS companies met it in 2024. ' +
      'Since 2022 markets reward the profitability half of the rule more than growth, so free cash flow margin is watched closely.',
  },
  {
    id: 'mi-007',
    title: 'Pricing of AI copilot add-ons',
    tags: ['ai', 'copilot', 'pricing', 'add-on'],
    body:
      'Vendors launching generative AI assistants mostly price them as add-ons at $20 to $30 per user per month. ' +
      'Attach rates stay low, often under 10% of seats in the first year, because buyers struggle to measure productivity gains. ' +
      'Some vendors are moving to credit packs so that heavy AI users pay for their inference costs.',
  },
  {
    id: 'mi-008',
    title: 'EU data residency and procurement',
    tags: ['gdpr', 'eu', 'data residency', 'compliance'],
    body:
      'European buyers increasingly require that customer data is stored and processed inside the EU. ' +
      'Offering an EU region shortens security reviews and is a prerequisite in many public sector tenders. ' +
      'The EU Data Act and GDPR enforcement keep data residency on procurement checklists.',
  },
  {
    id: 'mi-009',
    title: 'Product-led growth conversion rates',
    tags: ['plg', 'freemium', 'free trial', 'conversion'],
    body:
      'Freemium products convert about 3% to 5% of sign-ups into paying customers, while time-limited free trials convert 15% to 25%. ' +
      'Asking for a credit card at trial start raises conversion but cuts trial volume sharply. ' +
      'Product-qualified leads, users who reach an activation milestone, close at several times the rate of marketing leads.',
  },
  {
    id: 'mi-010',
    title: 'Vertical SaaS in healthcare',
    tags: ['vertical saas', 'healthcare', 'clinics'],
    body:
      'Healthcare practice management software for independent clinics is a fast-growing vertical, expanding about 14% a year. ' +
      'Embedded payments for patient billing can double revenue per customer compared with the subscription alone. ' +
      'HIPAA compliance and EHR integrations are the main barriers to entry.',
  },
  {
    id: 'mi-011',
    title: 'Security platform consolidation',
    tags: ['cybersecurity', 'siem', 'consolidation'],
    body:
      'Security teams are consolidating point tools into platforms that combine SIEM, endpoint detection and cloud posture management. ' +
      'Buyers cite alert fatigue and the cost of integrating a dozen separate tools. ' +
      'Security budgets kept growing near 10% a year even when other software budgets were cut.',
  },
  {
    id: 'mi-012',
    title: 'Observability pricing backlash',
    tags: ['observability', 'monitoring', 'logs', 'pricing'],
    body:
      'Observability bills tied to data ingest volume have become a top complaint among engineering leaders. ' +
      'Many teams now sample traces, drop debug logs and adopt OpenTelemetry to keep the option of switching vendors. ' +
      'Vendors respond with tiered storage and cheaper pricing for rarely queried logs.',
  },
  {
    id: 'mi-013',
    title: 'Payment processing costs for SaaS',
    tags: ['payments', 'card fees', 'stripe', 'billing'],
    body:
      'Card processing fees typically cost SaaS companies 2.5% to 3.5% of billed revenue once international cards and currency conversion are included. ' +
      'Moving large customers to ACH or SEPA bank debits cuts fees to a fraction of a percent. ' +
      'Billing platforms bundle tax calculation and invoicing, adding another 0.5% to 0.8%.',
  },
  {
    id: 'mi-014',
    title: 'SaaS adoption in Latin America',
    tags: ['latam', 'brazil', 'mexico', 'pix'],
    body:
      'Latin American SaaS spending grows about 20% a year, led by Brazil and Mexico. ' +
      'Local payment methods matter: Pix instant payments in Brazil and OXXO cash vouchers in Mexico lift checkout conversion. ' +
      'Pricing in local currency rather than dollars reduces churn when exchange rates swing.',
  },
  {
    id: 'mi-015',
    title: 'India as a SaaS exporter',
    tags: ['india', 'export', 'global sales'],
    body:
      'SaaS companies founded in India increasingly sell to customers in the US and Europe from day one. ' +
      'Their lower engineering and support costs let them undercut incumbents on price by 30% to 50%. ' +
      'The segment is projected to reach $50B in revenue by the end of the decade.',
  },
  {
    id: 'mi-016',
    title: 'Seat compression after layoffs',
    tags: ['seats', 'per-seat pricing', 'layoffs', 'downsell'],
    body:
      'Headcount reductions at technology companies shrank per-seat software contracts at renewal, a pattern called seat compression. ' +
      'Vendors exposed to tech-sector customers saw net retention fall by 5 to 10 points. ' +
      'Some responded by adding usage or platform fees so revenue no longer tracks headcount.',
  },
  {
    id: 'mi-017',
    title: 'Annual versus monthly billing',
    tags: ['billing', 'annual plan', 'discount', 'cash flow'],
    body:
      'Most SaaS companies offer a 15% to 20% discount for paying annually up front. ' +
      'Annual plans cut churn roughly in half compared with monthly plans and improve cash flow. ' +
      'Monthly plans still dominate among self-serve customers spending under $100 a month.',
  },
  {
    id: 'mi-018',
    title: 'Enterprise sales cycle length',
    tags: ['enterprise', 'sales cycle', 'procurement'],
    body:
      'Enterprise SaaS deals above $100k in annual contract value now take a median of six to nine months to close. ' +
      'More stakeholders sign off on each purchase, with finance and security reviews added late in the process. ' +
      'Mutual action plans and early security questionnaires shorten cycles measurably.',
  },
  {
    id: 'mi-019',
    title: 'Cloud marketplace procurement',
    tags: ['aws marketplace', 'cloud marketplace', 'procurement', 'committed spend'],
    body:
      'A growing share of enterprise software is bought through cloud marketplaces so buyers can draw down committed cloud spend. ' +
      'Marketplace transactions close faster because vendor onboarding and paper are already in place. ' +
      'Marketplace fees have fallen to around 3%, making the channel attractive even for mid-market deals.',
  },
  {
    id: 'mi-020',
    title: 'Gross margin pressure from AI inference',
    tags: ['gross margin', 'ai', 'inference', 'unit economics'],
    body:
      'Traditional SaaS gross margins sit between 75% and 80%. ' +
      'Products built on large language models report margins of 50% to 60% because every request pays for GPU inference. ' +
      'Caching, smaller models and routing easy queries to cheaper models are the main levers to restore margin.',
  },
  {
    id: 'mi-021',
    title: 'HR and payroll software consolidation',
    tags: ['hr tech', 'payroll', 'consolidation', 'smb'],
    body:
      'Small businesses prefer one platform for payroll, benefits and HR records instead of separate tools. ' +
      'All-in-one HR suites grow faster than single-purpose payroll vendors. ' +
      'Payroll is sticky: switching happens mostly at the start of a calendar year.',
  },
  {
    id: 'mi-022',
    title: 'Adoption of AI coding assistants',
    tags: ['developer tools', 'ai', 'coding assistant'],
    body:
      'More than half of professional developers use an AI coding assistant at least weekly. ' +
      'Enterprises roll them out once they can control where code is sent and keep it out of model training. ' +
      'Developer tool vendors now compete on context: understanding the whole repository rather than single files.',
  },
  {
    id: 'mi-023',
    title: 'Vector database market',
    tags: ['vector database', 'rag', 'embeddings', 'search'],
    body:
      'Retrieval-augmented generation created demand for vector databases that store embeddings for similarity search. ' +
      'Mainstream databases such as PostgreSQL added vector indexes, so standalone vector stores face pressure. ' +
      'Many teams find that keyword search combined with vectors, called hybrid search, retrieves better than either alone.',
  },
  {
    id: 'mi-024',
    title: 'FinOps and cloud cost optimization',
    tags: ['finops', 'cloud costs', 'optimization'],
    body:
      'Cloud cost management became a board-level topic as public cloud bills grew faster than revenue at many startups. ' +
      'FinOps practices such as tagging, rightsizing and reserved capacity typically cut spend 20% to 30%. ' +
      'Tools that allocate cloud cost per customer help SaaS companies see unit margins by account.',
  },
  {
    id: 'mi-025',
    title: 'Customer success staffing ratios',
    tags: ['customer success', 'staffing', 'retention'],
    body:
      'Customer success managers typically cover $2M to $5M of annual recurring revenue each. ' +
      'High-touch enterprise accounts get a named manager, while SMB customers are served through pooled, digital-first programs. ' +
      'Health scores built from product usage predict renewals better than survey sentiment.',
  },
  {
    id: 'mi-026',
    title: 'SaaS price increases',
    tags: ['price increase', 'inflation', 'renewals', 'pricing'],
    body:
      'Software list prices rose about 9% a year on average in 2023 and 2024, well above general inflation. ' +
      'Buyers push back by consolidating vendors and negotiating multi-year price caps at renewal. ' +
      'Price increases paired with new features see less churn than flat increases.',
  },
  {
    id: 'mi-027',
    title: 'SOC 2 as a deal requirement',
    tags: ['soc 2', 'security review', 'compliance', 'trust'],
    body:
      'A SOC 2 Type II report is now expected by most mid-market and enterprise buyers before signing. ' +
      'Lacking one can add months of security questionnaires or block a deal entirely. ' +
      'Compliance automation tools cut the time to a first report to roughly three to six months.',
  },
  {
    id: 'mi-028',
    title: 'Marketing technology stack consolidation',
    tags: ['martech', 'marketing', 'consolidation'],
    body:
      'Marketing teams cut the number of tools in their stack, keeping a core of CRM, email automation and analytics. ' +
      'Point solutions for niche channels lose budget first during downturns. ' +
      'Customer data platforms are being absorbed into data warehouses and CRM suites.',
  },
  {
    id: 'mi-029',
    title: 'Construction technology',
    tags: ['vertical saas', 'construction', 'field service'],
    body:
      'Construction remains one of the least digitized industries, with software spend under 2% of revenue. ' +
      'Project management and field reporting apps on mobile devices drive adoption among general contractors. ' +
      'Embedded payments for subcontractor payouts are an emerging revenue stream.',
  },
  {
    id: 'mi-030',
    title: 'Open-source licensing changes',
    tags: ['open source', 'licensing', 'bsl', 'commercial open source'],
    body:
      'Several infrastructure companies moved from permissive open-source licenses to source-available licenses such as the BSL. ' +
      'The goal is to stop cloud providers from reselling the software as a managed service. ' +
      'Community forks often follow, so vendors weigh revenue protection against developer goodwill.',
  },
  {
    id: 'mi-031',
    title: 'Entering the Japanese market',
    tags: ['japan', 'localization', 'international expansion'],
    body:
      'Japan is the second-largest single-country SaaS market in Asia-Pacific but adopts cloud software later than the US. ' +
      'Success requires full localization, Japanese-language support and invoices that match local accounting practice. ' +
      'Partnerships with local resellers and system integrators usually drive most enterprise sales.',
  },
  {
    id: 'mi-032',
    title: 'Card testing fraud on checkout pages',
    tags: ['fraud', 'card testing', 'checkout', 'payments'],
    body:
      'Fraudsters use self-serve checkout pages to test stolen card numbers with many small payments. ' +
      'Signs include bursts of low-value attempts from new accounts and high decline rates. ' +
      'Rate limits, CAPTCHA on repeated failures and radar-style risk scoring stop most card testing attacks.',
  },
  {
    id: 'mi-033',
    title: 'Revenue recognition for usage-based contracts',
    tags: ['revenue recognition', 'asc 606', 'accounting', 'usage-based'],
    body:
      'Under ASC 606, subscription fees are recognized evenly over the service period, while usage charges are recognized as consumption happens. ' +
      'Prepaid credits are deferred revenue until used, and expired credits are recognized as breakage. ' +
      'Finance teams need metering data reconciled with billing to close the books each month.',
  },
  {
    id: 'mi-034',
    title: 'SaaS valuation multiples',
    tags: ['valuation', 'arr multiple', 'funding', 'investors'],
    body:
      'Public SaaS companies traded at a median of about 6x forward revenue in 2024, far below the 2021 peak above 15x. ' +
      'Private funding rounds now price on efficient growth, with burn multiple under 1.5 as a common bar. ' +
      'Companies with AI-native products attract a premium over the median.',
  },
];
