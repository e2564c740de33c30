/** The answer formats a query can ask for, and the media type each is sent with. */
export const ANSWER_FORMATS = ['json', 'csv', 'arrow', 'msgpack'] as const;
export type AnswerFormat = (typeof ANSWER_FORMATS)[number];

export const CONTENT_TYPE_BY_FORMAT: Readonly<Record<AnswerFormat, string>> = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
  msgpack: 'application/msgpack',
};

export function isAnswerFormat(value: unknown): value is AnswerFormat {
  return typeof value === 'string' && (ANSWER_FORMATS as readonly string[]).includes(value);
}

/** The formats `POST /query/stream` sends, row by row. */
export const STREAM_FORMATS = ['csv', 'ndjson'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

export const CONTENT_TYPE_BY_STREAM_FORMAT: Readonly<Record<StreamFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

export function isStreamFormat(value: unknown): value is StreamFormat {
  return typeof value === 'string' && (STREAM_FORMATS as readonly string[]).includes(value);
}
