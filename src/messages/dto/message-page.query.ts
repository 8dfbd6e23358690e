import { ApiPageCursor, ApiPageLimit, PageQuery } from '../../common/pagination/page-query';

export class MessagePageQuery extends PageQuery {
  @ApiPageLimit('messages')
  declare limit: number;

  @ApiPageCursor()
  declare cursor?: string;
}
