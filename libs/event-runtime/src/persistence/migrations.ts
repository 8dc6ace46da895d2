import { EventRuntimeTables1732200000000 } from './runtime-tables.migration';
import { OutboxRetention1764370000000 } from './outbox-retention.migration';

/** The runtime's migrations in order; released ones are never edited, new ones are appended. */
export const EVENT_RUNTIME_MIGRATIONS = [EventRuntimeTables1732200000000, OutboxRetention1764370000000];
