import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/require-capability.decorator';
import type { HttpResponse } from '../common/http/http-response';
import { GatewayMetrics } from './gateway-metrics';

/** GET /metrics on the API port (when METRICS_PORT is not set). */
@ApiExcludeController()
@Public()
@Controller()
export class MetricsController {
  constructor(private readonly metrics: GatewayMetrics) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() response: HttpResponse): Promise<void> {
    const text = await this.metrics.registry.metrics();
    response.header('Content-Type', this.metrics.registry.contentType);
    response.send(Buffer.from(text));
  }
}
