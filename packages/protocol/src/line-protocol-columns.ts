import type { BatchBuilder, ColumnBuilder, ColumnRole } from '@arc/columnar';
import { ArcError } from '@arc/errors';

/**
 * The columns of a fixed list of tag or field names in one request's builder, resolved by name
 * once and reused by every later line of the request. Builders are pooled and reset between
 * requests, so what was resolved is valid for one (builder, request) only.
 */
export class RequestColumns {
  private readonly names: readonly string[];
  private readonly role: ColumnRole;
  private readonly columns: ColumnBuilder[] = [];
  private builder: BatchBuilder | null = null;
  private request = -1;

  constructor(names: readonly string[], role: ColumnRole) {
    this.names = names;
    this.role = role;
  }

  /** True when the columns were resolved in `builder` for request `request`. */
  isFor(builder: BatchBuilder, request: number): boolean {
    return this.request === request && this.builder === builder;
  }

  /** The columns in name order, resolved now unless `isFor`; the first name's error otherwise. */
  in(builder: BatchBuilder, request: number): readonly ColumnBuilder[] | ArcError {
    if (this.isFor(builder, request)) return this.columns;
    for (let index = 0; index < this.names.length; index++) {
      const column = builder.column(this.names[index] as string, this.role); // index < names.length
      if (column instanceof ArcError) {
        this.request = -1;
        return column;
      }
      this.columns[index] = column;
    }
    this.builder = builder;
    this.request = request;
    return this.columns;
  }
}
