import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/require-capability.decorator';
import type { HttpResponse } from '../common/http/http-response';
import { ReadinessIndicators } from './readiness.indicators';

/**
 * Kubernetes probes, at the root (not under /api/v1), without auth.
 * Both answer `{ status, info, error, details }` (terminus' shape), 200 when healthy, 503 when not.
 */
@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly checks: ReadinessIndicators,
  ) {}

  /** Liveness: the process answers HTTP. No dependency is checked, so a database outage never restarts pods. */
  @Get('healthz')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  liveness(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Readiness: the database answers, migrations are applied, the replica is not draining. */
  @Get('readyz')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  async readiness(@Res({ passthrough: true }) reply: HttpResponse): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.checks.draining(), () => this.checks.database(), () => this.checks.migrations()]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }
}
