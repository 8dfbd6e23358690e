import { ApiPageCursor, ApiPageLimit, PageQuery } from '../../common/pagination/page-query';

export class WebhookPageQuery extends PageQuery {
  @ApiPageLimit('webhooks')
  declare limit: number;

  @ApiPageCursor()
  declare cursor?: string;
}

export class DeliveryPageQuery extends PageQuery {
  @ApiPageLimit('deliveries')
  declare limit: number;

  @ApiPageCursor()
  declare cursor?: string;
}
