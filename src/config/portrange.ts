/**
 * NodePortLocal's port range, `<start>-<end>`, parsed as Antrea's `parsePortRange` does (its messages included).
 * Unlike Antrea, ports outside 1..65535 are refused here too.
 */
export function parsePortRange(text: string): { start: number; end: number } | { error: string } {
  const parts = text.split('-');
  if (parts.length !== 2) return { error: `wrong port range format: ${text}` };
  const nums: number[] = [];
  for (const part of parts) {
    if (!/^[+-]?\d+$/.test(part)) return { error: `strconv.Atoi: parsing ${JSON.stringify(part)}: invalid syntax` };
    nums.push(Number(part));
  }
  const [start, end] = nums as [number, number];
  if (end <= start) return { error: `start port must be smaller than end port: ${text}` };
  if (start < 1 || end > 65535) return { error: `ports must be between 1 and 65535: ${text}` };
  return { start, end };
}
