/** The six services, their default HTTP ports and env prefixes (kept beside the launcher that starts them). */
export const SERVICE_NAMES = ['ingest', 'identity-resolution', 'normalization', 'policy', 'task', 'notifier'] as const;

/**
 * Consumers added without touching the pipeline (`nx g @clinmesh/nx-plugin:consumer` appends here):
 * `npm start` runs them beside the six (own database, port, runtime.json entry); test pipelines do not.
 */
export const CONSUMER_SERVICE_NAMES = [
  'analytics-sink',
] as const;

/** Everything `npm start` runs. */
export const LAUNCHED_SERVICE_NAMES = [...SERVICE_NAMES, ...CONSUMER_SERVICE_NAMES] as const;
export type ServiceName = (typeof LAUNCHED_SERVICE_NAMES)[number];

export const SERVICE_PORTS: Record<ServiceName, number> = {
  ingest: 8080,
  'identity-resolution': 8082,
  normalization: 8083,
  policy: 8084,
  task: 8085,
  notifier: 8086,
  'analytics-sink': 8087,
};

export const DEFAULT_MLLP_PORT = 2575;
export const DEFAULT_REGISTRY_PORT = 8081;

export function envPrefixOf(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}
