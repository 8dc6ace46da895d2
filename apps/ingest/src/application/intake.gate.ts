/**
 * Whether ingest takes new messages. Closed once, on a graceful stop, before
 * the service drains: MLLP stops accepting and reading, the HTTP intake
 * routes answer 503 with Retry-After. Work already accepted for processing
 * finishes and is answered.
 */
export class IntakeGate {
  private closed = false;

  constructor(readonly retryAfterSeconds: number) {}

  get isOpen(): boolean {
    return !this.closed;
  }

  close(): void {
    this.closed = true;
  }
}
