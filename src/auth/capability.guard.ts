import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../common/errors/app-error';
import type { Capability } from '../common/capabilities';
import type { Principal } from './principal';
import { REQUIRED_CAPABILITY } from './require-capability.decorator';

/**
 * Enforces `@RequireCapability`. Runs after authentication and before any handler, so a 403 is
 * decided before a session is looked up and reveals nothing about other orgs.
 */
@Injectable()
export class CapabilityGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<Capability | undefined>(REQUIRED_CAPABILITY, [context.getHandler(), context.getClass()]);
    if (!required) return true;
    const principal = context.switchToHttp().getRequest<{ user?: Principal }>().user;
    if (!principal?.capabilities.has(required)) throw AppError.forbidden(required);
    return true;
  }
}
