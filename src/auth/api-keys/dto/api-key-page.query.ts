import { ApiPageCursor, ApiPageLimit, PageQuery } from '../../../common/pagination/page-query';

export class ApiKeyPageQuery extends PageQuery {
  @ApiPageLimit('API keys')
  declare limit: number;

  @ApiPageCursor()
  declare cursor?: string;
}
