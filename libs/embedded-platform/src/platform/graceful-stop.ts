import { ManagedProcess } from './managed-process';

/** What a service reports to the launcher while draining (EventRuntime.drainStatus). */
export interface ServiceDrainStatus {
  service: string;
  outbox: number;
  republishing: boolean;
  consumers: Array<{ name: string; group: string; lag: number }>;
  pending: number;
}

export interface DrainResult {
  drained: boolean;
  seconds: number;
  /** What was still pending when the wait ended (empty when drained). */
  waitingFor: string[];
}

/**
 * The launcher's orderly stop, before any process is stopped: close intake on
 * every service (ingest: MLLP stops, HTTP intake answers 503 + Retry-After),
 * then wait — bounded by `timeoutMs` — until every service's outbox and every
 * consumer's lag are zero in two consecutive rounds (an event between two
 * services is in one of them), saying what it waits for.
 */
export async function closeIntakeAndDrain(
  processes: Record<string, ManagedProcess>,
  options: { timeoutMs: number; say: (line: string) => void; intervalMs?: number; reportEveryMs?: number },
): Promise<DrainResult> {
  const started = Date.now();
  const names = Object.keys(processes).filter((n) => processes[n].running);
  const closed = await Promise.allSettled(names.map((n) => processes[n].request('close-intake', 30000)));
  closed.forEach((r, i) => {
    if (r.status === 'rejected') options.say(`clinmesh: ${names[i]}: closing intake failed: ${(r.reason as Error).message}`);
  });
  options.say('clinmesh: intake closed (MLLP stopped, HTTP intake answers 503); draining consumers and outboxes…');
  let zeroRounds = 0;
  let lastReport = 0;
  let waitingFor: string[] = ['(no answer yet)'];
  while (Date.now() - started < options.timeoutMs) {
    const answers = await Promise.allSettled(names.map((n) => processes[n].request<ServiceDrainStatus>('drain-status', 10000)));
    waitingFor = [];
    answers.forEach((a, i) => {
      if (a.status === 'rejected') {
        if (processes[names[i]].running) waitingFor.push(`${names[i]}: no status (${(a.reason as Error).message})`);
        return;
      }
      const s = a.value;
      if (s.outbox > 0) waitingFor.push(`${s.service} outbox ${s.outbox}${s.republishing ? ' (re-publishing)' : ''}`);
      for (const c of s.consumers) if (c.lag > 0) waitingFor.push(`${s.service}/${c.name} lag ${c.lag}`);
    });
    zeroRounds = waitingFor.length ? 0 : zeroRounds + 1;
    if (zeroRounds >= 2) return { drained: true, seconds: (Date.now() - started) / 1000, waitingFor: [] };
    if (waitingFor.length && Date.now() - lastReport >= (options.reportEveryMs ?? 2000)) {
      lastReport = Date.now();
      options.say(`clinmesh: waiting for ${waitingFor.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
  return { drained: false, seconds: (Date.now() - started) / 1000, waitingFor };
}
