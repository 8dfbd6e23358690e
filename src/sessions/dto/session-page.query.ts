import { ApiPageCursor, ApiPageLimit, PageQuery } from '../../common/pagination/page-query';

export class SessionPageQuery extends PageQuery {
  @ApiPageLimit('sessions')
  declare limit: number;

  @ApiPageCursor()
  declare cursor?: string;
}
