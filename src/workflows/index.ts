/** Every workflow the worker registers (this file is its workflowsPath). */
export { releasePipeline } from './release/index.js';
export { rollbackEnvironment } from './rollback.js';
export { dailyHealthCheck } from './daily-health.js';
export { laneUnlock } from './lane.js';
export { canaryWindow } from './canary-window.js';
