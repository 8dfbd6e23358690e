import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../../common/errors/api-error-responses.decorator';
import { PageQueryPipe } from '../../common/pagination/page-query';
import { ValidatedBodyPipe } from '../../common/validation/validated-body.pipe';
import { CurrentPrincipal } from '../current-principal.decorator';
import type { Principal } from '../principal';
import { RequireCapability } from '../require-capability.decorator';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyPageQuery } from './dto/api-key-page.query';
import { API_KEY_EXAMPLE, ApiKeyPageResponse, CreatedApiKeyResponse } from './dto/api-key.response';
import { CreateApiKeyRequest } from './dto/create-api-key.request';

@ApiTags('API keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create an API key',
    description:
      "Creates an API key for the caller's organization, for a script or service. The response carries the key itself **once**; the gateway keeps only a hash and can never show it again. A key can only be given capabilities the caller holds (else 403 `forbidden`).",
  })
  @ApiBody({
    type: CreateApiKeyRequest,
    examples: { readSend: { summary: 'A key that reads and sends', value: { name: 'crm-sync', capabilities: ['read', 'send'] } } },
  })
  @ApiCreatedResponse({
    type: CreatedApiKeyResponse,
    description: 'The new key, with its secret shown this once.',
    example: { ...API_KEY_EXAMPLE, lastUsedAt: null, key: 'wgk_01JA2B3C4D5E6F7G8H9J0KMNPQ_9uJxQ2m3Yb7cR1tV5wZ8aD4fG6hK0nP2sU4xW7yB1eE' },
  })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden')
  createApiKey(
    @CurrentPrincipal() principal: Principal,
    @Body(new ValidatedBodyPipe(CreateApiKeyRequest)) body: CreateApiKeyRequest,
  ): Promise<CreatedApiKeyResponse> {
    return this.apiKeys.createForCaller(principal, body);
  }

  @Get()
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'listApiKeys',
    summary: 'List API keys',
    description: "The organization's API keys in creation order, revoked ones included (see `revokedAt`); never their secrets. Paginated like List chats.",
  })
  @ApiOkResponse({ type: ApiKeyPageResponse, description: 'A page of API keys.', example: { data: [API_KEY_EXAMPLE], nextCursor: null } })
  @ApiErrorResponses('invalid_argument', 'unauthenticated', 'forbidden')
  listApiKeys(@CurrentPrincipal() principal: Principal, @Query(PageQueryPipe) page: ApiKeyPageQuery): Promise<ApiKeyPageResponse> {
    return this.apiKeys.listForOrg(principal.orgId, page);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireCapability('admin')
  @ApiOperation({
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description:
      'Revokes the key: every replica stops accepting it within AUTH_API_KEY_CACHE_SECONDS. A key of another organization, or one already revoked, is 404.',
  })
  @ApiParam({ name: 'id', type: 'string', example: '01JA2B3C4D5E6F7G8H9J0KMNPQ', description: 'The key id.' })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiErrorResponses('unauthenticated', 'forbidden', 'not_found')
  revokeApiKey(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.apiKeys.revokeForOrg(principal.orgId, id);
  }
}
