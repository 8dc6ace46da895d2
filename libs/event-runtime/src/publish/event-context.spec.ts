import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { UnitOfWork } from '../persistence/unit-of-work';
import type { OutgoingEvent } from '../outbox/outbox.writer';
import { eventContext } from './event-context';

/** A pino logger writing its JSON lines into `lines`. */
function capturingLogger(lines: Array<Record<string, unknown>>): pino.Logger {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ base: { service: 'test' } }, sink);
}

describe('eventContext logger', () => {
  it('puts the work\'s correlation id, origin id and tier on every line of ctx.logger, and nothing of another context', () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = capturingLogger(lines);
    const sink: OutgoingEvent[] = [];
    const uow = {} as UnitOfWork;
    const a = eventContext(uow, { id: 'evt-a', correlationId: 'corr-a', tier: 'stat' }, sink, logger);
    const b = eventContext(uow, { id: 'evt-b', correlationId: 'corr-b', tier: 'bulk' }, sink, logger);
    a.logger.info({ step: 1 }, 'first');
    b.logger.warn('other');
    a.logger.info('second');
    logger.info('service line');
    assert.equal(lines.length, 4);
    assert.deepEqual(lines.map((l) => [l.msg, l.correlationId, l.eventId, l.tier]), [
      ['first', 'corr-a', 'evt-a', 'stat'],
      ['other', 'corr-b', 'evt-b', 'bulk'],
      ['second', 'corr-a', 'evt-a', 'stat'],
      ['service line', undefined, undefined, undefined],
    ]);
    assert.equal(lines[0].step, 1);
    assert.equal(a.logger, a.logger, 'one child per context, made once');
  });
});
