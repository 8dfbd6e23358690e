import { ApiPageCursor, ApiPageLimit, PageQuery } from '../../common/pagination/page-query';

export class ChatPageQuery extends PageQuery {
  @ApiPageLimit('chats')
  declare limit: number;

  @ApiPageCursor()
  declare cursor?: string;
}
