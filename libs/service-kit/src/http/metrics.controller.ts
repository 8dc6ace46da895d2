import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { RuntimeMetrics } from '@clinmesh/observability';
import { SCOPES } from '@clinmesh/security';
import { RUNTIME_METRICS } from './tokens';
import { RequireScopes } from './scopes.decorator';

/** Prometheus exposition; scrapers authenticate with a token holding metrics:read. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(RUNTIME_METRICS) private readonly metrics: RuntimeMetrics) {}

  @RequireScopes(SCOPES.metricsRead)
  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(await this.metrics.registry.metrics());
  }
}
