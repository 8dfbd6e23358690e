import { ApiPageCursor, ApiPageLimit } from '../../common/pagination/listing-page-query';
import { PageQuery } from '../../common/pagination/page-query';

export class SessionPageQuery extends PageQuery {
  @ApiPageLimit('sessions')
  declare limit: number;

  @ApiPageCursor()
  declare cursor?: string;
}
