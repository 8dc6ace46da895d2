import { EventRuntimeTables1732200000000 } from './runtime-tables.migration';
import { OutboxRetention1764370000000 } from './outbox-retention.migration';
import { OutboxAutovacuum1764420000000 } from './queue-table-vacuum';

/** The runtime's migrations in order; released ones are never edited, new ones are appended. */
export const EVENT_RUNTIME_MIGRATIONS = [EventRuntimeTables1732200000000, OutboxRetention1764370000000, OutboxAutovacuum1764420000000];
