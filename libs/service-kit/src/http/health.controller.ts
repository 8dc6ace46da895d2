import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { EventRuntime } from '@clinmesh/event-runtime';
import { EVENT_RUNTIME, SERVICE_STARTUP } from './tokens';
import { PublicEndpoint } from './scopes.decorator';

/**
 * Set by the bootstrap when the service's afterStart has finished. HTTP listens before that (the
 * probes must answer while the runtime starts), so without this a probe could say ready while
 * ingest's MLLP listener was not yet bound — a sender that trusted it was refused.
 */
export class ServiceStartup {
  complete = false;
}

/** Liveness and readiness probes (start-up, Kafka, database, schema registry, consumers). */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_RUNTIME) private readonly runtime: EventRuntime,
    @Inject(SERVICE_STARTUP) private readonly startup: ServiceStartup,
  ) {}

  @PublicEndpoint()
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @PublicEndpoint()
  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const runtime = await this.runtime.readiness();
    const checks = { startup: { ok: this.startup.complete }, ...runtime.checks };
    const ready = runtime.ready && this.startup.complete;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks });
  }
}
