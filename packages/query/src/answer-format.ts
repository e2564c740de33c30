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
