import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../common/errors/app-error';
import type { Capability } from '../common/capabilities';
import { CapabilityGuard } from './capability.guard';
import type { Principal } from './principal';
import { RequireCapability } from './require-capability.decorator';

class Controller {
  @RequireCapability('read')
  readChats(): void {}

  open(): void {}
}

function contextFor(handler: keyof Controller, user?: Principal): ExecutionContext {
  return {
    getHandler: () => Controller.prototype[handler],
    getClass: () => Controller,
    switchToHttp: () => ({ getRequest: () => ({ user }) }),
  } as unknown as ExecutionContext;
}

const principal = (...capabilities: Capability[]): Principal => ({ kind: 'api_key', orgId: 'org', capabilities: new Set(capabilities) });

describe('CapabilityGuard', () => {
  const guard = new CapabilityGuard(new Reflector());

  it('lets a caller holding the capability through', () => {
    expect(guard.canActivate(contextFor('readChats', principal('read')))).toBe(true);
  });

  it('throws forbidden naming the missing capability', () => {
    expect(() => guard.canActivate(contextFor('readChats', principal('send', 'manage')))).toThrow(AppError);
    expect(() => guard.canActivate(contextFor('readChats', principal()))).toThrow(
      expect.objectContaining({ code: 'forbidden', status: 403, details: { capability: 'read' } }),
    );
  });

  it('denies when no caller was resolved', () => {
    expect(() => guard.canActivate(contextFor('readChats'))).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });

  it('does not restrict an endpoint that names no capability', () => {
    expect(guard.canActivate(contextFor('open'))).toBe(true);
  });
});
