/**
 * Line protocol's escapes (InfluxDB's reference), for the places that write lines: a measurement
 * escapes comma, space and backslash; a tag key, tag value or field key also equals.
 */
export function escapeMeasurement(name: string): string {
  return name.replace(/[\\, ]/g, (c) => `\\${c}`);
}
export function escapeKey(name: string): string {
  return name.replace(/[\\,= ]/g, (c) => `\\${c}`);
}
