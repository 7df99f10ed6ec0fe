/** The codings the build precompresses to, best first (their file suffixes in `SUFFIX`). */
export const CODINGS = ["br", "gzip"] as const;
export type Coding = (typeof CODINGS)[number];

export const SUFFIX: Record<Coding, string> = { br: ".br", gzip: ".gz" };

/** Each coding's weight in an Accept-Encoding header (`q`, 1 when not given). */
function weights(header: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const item of header.split(",")) {
    const [name = "", ...params] = item.split(";").map((part) => part.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((param) => param.startsWith("q="));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    result.set(name, Number.isFinite(weight) ? weight : 0);
  }
  return result;
}

/**
 * The coding to send, of those `available`, by the weights of an
 * Accept-Encoding header: the heaviest wins, br before gzip on a tie; `q=0`
 * refuses a coding; `*` weighs every coding not named. None (identity) when
 * nothing acceptable is available, when the client names identity heavier, or
 * when it sends no header (then it gets what every client can read; when even
 * identity is refused, it still gets identity rather than nothing).
 */
export function preferredCoding(
  header: string | undefined,
  available: readonly Coding[],
): Coding | undefined {
  if (header === undefined) return undefined;
  const accepted = weights(header);
  const star = accepted.get("*") ?? 0;
  let best: Coding | undefined;
  let bestWeight = accepted.get("identity") ?? 0;
  for (const coding of CODINGS) {
    if (!available.includes(coding)) continue;
    const weight = accepted.get(coding) ?? star;
    if (weight > 0 && (best === undefined ? weight >= bestWeight : weight > bestWeight)) {
      best = coding;
      bestWeight = weight;
    }
  }
  return best;
}
