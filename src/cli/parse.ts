import { InvalidArgumentError } from "commander";

export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** "30d", "12h", "90m", "45s" as ms; "0" or "unlimited" as 0 (keep everything). */
export function parseAge(value: string): number {
  if (value === "0" || value === "unlimited") return 0;
  const match = /^(\d+)(s|m|h|d)$/.exec(value);
  if (!match)
    throw new InvalidArgumentError('expected an age such as "90d", "12h", "30m", or "unlimited"');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    match[2] as "s" | "m" | "h" | "d"
  ];
  return Number(match[1]) * unit;
}
