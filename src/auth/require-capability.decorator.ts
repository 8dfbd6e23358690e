import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { Capability } from './capabilities';

export const REQUIRED_CAPABILITY = 'auth:required-capability';
export const PUBLIC_ROUTE = 'auth:public';
export const BEARER_SCHEME = 'bearer';

/** What an endpoint needs. Also marks the operation with the Bearer security scheme in OpenAPI. */
export const RequireCapability = (capability: Capability) =>
  applyDecorators(SetMetadata(REQUIRED_CAPABILITY, capability), ApiBearerAuth(BEARER_SCHEME));

/** For the few routes that need no credentials (health checks). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
