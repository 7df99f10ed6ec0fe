/** The seed's timestamp format, "YYYY-MM-DD HH:MM:SS", in this machine's local time. */
export function formatSeedTime(timeMs: number): string {
  const d = new Date(timeMs);
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

const SEED_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * A seed timestamp as ms since the epoch, read in this machine's local time
 * (the seed writes its own); undefined when it is not in the seed's format.
 */
export function parseSeedTime(text: string): number | undefined {
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
