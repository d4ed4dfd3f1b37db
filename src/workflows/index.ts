/** Every workflow the worker registers (this file is its workflowsPath). */
export { releasePipeline } from './deploy.js';
export { rollbackEnvironment } from './rollback.js';
export { dailyHealthCheck } from './daily-health.js';
