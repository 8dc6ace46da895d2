import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { EventRuntime } from '@clinmesh/event-runtime';
import { EVENT_RUNTIME } from './tokens';
import { PublicEndpoint } from './scopes.decorator';

/** Liveness and readiness probes (Kafka, database, schema registry, consumers). */
@Controller('health')
export class HealthController {
  constructor(@Inject(EVENT_RUNTIME) private readonly runtime: EventRuntime) {}

  @PublicEndpoint()
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @PublicEndpoint()
  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const { ready, checks } = await this.runtime.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks });
  }
}
