import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import { CAPABILITY_EXTENSION } from '../common/openapi/arrange-document';
import type { Capability } from '../common/capabilities';

export const REQUIRED_CAPABILITY = 'auth:required-capability';
export const PUBLIC_ROUTE = 'auth:public';
export const BEARER_SCHEME = 'bearer';

/** What an endpoint needs. Also marks the operation in OpenAPI: the Bearer security scheme and the capability. */
export const RequireCapability = (capability: Capability) =>
  applyDecorators(SetMetadata(REQUIRED_CAPABILITY, capability), ApiBearerAuth(BEARER_SCHEME), ApiExtension(CAPABILITY_EXTENSION, capability));

/** For the few routes that need no credentials (health checks). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
