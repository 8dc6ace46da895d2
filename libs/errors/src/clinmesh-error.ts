/**
 * The one base error of the project. `code` is stable and machine-readable
 * (e.g. `HL7.PARSE.MISSING_MSH`); `retriable` tells transport adapters whether
 * to retry (Kafka consumers back off and retry; non-retriable errors are
 * dead-lettered, HTTP answers problem+json with `status`).
 */
export class ClinmeshError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly options: { retriable?: boolean; status?: number; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
  get retriable(): boolean {
    return this.options.retriable ?? false;
  }
  get status(): number {
    return this.options.status ?? 500;
  }
  get details(): Record<string, unknown> | undefined {
    return this.options.details;
  }
}

/** Heuristic for errors that did not come from our code (drivers, sockets). */
export function isRetriable(error: unknown): boolean {
  if (error instanceof ClinmeshError) return error.retriable;
  const e = error as { retriable?: boolean; code?: string; name?: string } | undefined;
  if (e?.retriable === true) return true;
  // Connection-level failures of pg / net are transient by nature.
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '40001', '40P01', '53300'].includes(String(e?.code));
}
