// Local offsets are whole seconds, so one second of the epoch is one string.
// Messages close together share it: a page of history formats each once.
let cachedSecond = Number.NaN;
let cachedText = "";

/** The seed's timestamp format, "YYYY-MM-DD HH:MM:SS", in this machine's local time. */
export function formatSeedTime(timeMs: number): string {
  const second = Math.floor(timeMs / 1000);
  if (second === cachedSecond) return cachedText;
  const d = new Date(timeMs);
  const pad = (n: number) => String(n).padStart(2, "0");
  cachedText =
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  cachedSecond = second;
  return cachedText;
}

const SEED_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
// A page of history repeats each second's text many times over.
let parsedText: string | undefined;
let parsedTime: number | undefined;

/**
 * A seed timestamp as ms since the epoch, read in this machine's local time
 * (the seed writes its own); undefined when it is not in the seed's format.
 */
export function parseSeedTime(text: string): number | undefined {
  if (text === parsedText) return parsedTime;
  parsedText = text;
  parsedTime = parse(text);
  return parsedTime;
}

function parse(text: string): number | undefined {
  const parts = SEED_TIME.exec(text);
  if (!parts) return undefined;
  const [year, month, day, hours, minutes, seconds] = parts.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const time = new Date(year, month - 1, day, hours, minutes, seconds).getTime();
  return Number.isNaN(time) ? undefined : time;
}
