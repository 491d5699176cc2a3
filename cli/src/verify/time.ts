/**
 * Date.parse for the verifier's hot path: every event carries two times and every entry one, and
 * V8's Date.parse is a large share of checking 100k of them. The form the origin and the edge
 * write (`toISOString()`: YYYY-MM-DDTHH:MM:SS.sssZ) is computed directly when every field is in a
 * range where the result cannot differ from Date.parse (days 1–28, years 1000–9999); anything
 * else goes to Date.parse itself. Same value as Date.parse for every input (cli/test/units.test.ts).
 */
const digit = (s: string, i: number): number => {
  const d = s.charCodeAt(i) - 0x30;
  return d >= 0 && d <= 9 ? d : -1e6;
};
const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1);

export function parseTime(s: string): number {
  if (
    s.length === 24 &&
    s.charCodeAt(4) === 0x2d &&
    s.charCodeAt(7) === 0x2d &&
    s.charCodeAt(10) === 0x54 &&
    s.charCodeAt(13) === 0x3a &&
    s.charCodeAt(16) === 0x3a &&
    s.charCodeAt(19) === 0x2e &&
    s.charCodeAt(23) === 0x5a
  ) {
    const year = two(s, 0) * 100 + two(s, 2);
    const month = two(s, 5);
    const day = two(s, 8);
    const hour = two(s, 11);
    const minute = two(s, 14);
    const second = two(s, 17);
    const ms = digit(s, 20) * 100 + two(s, 21);
    if (
      year >= 1000 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      ms >= 0
    ) {
      return Date.UTC(year, month - 1, day, hour, minute, second, ms);
    }
  }
  return Date.parse(s);
}
