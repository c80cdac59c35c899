export { createMetrics, type CimmeriaMetrics, type CreateMetricsOptions, type PoolUsage } from './prometheus.js';
export type { RegistryMetrics } from './registry-metrics.js';
export { instrumentBackend } from './instrument-backend.js';
