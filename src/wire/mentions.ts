/** Whether `text` names `username` as a word, with or without @ (case and accents as typed). */
export function mentions(text: string, username: string): boolean {
  if (username === "") return false;
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${escaped}($|[^\\p{L}\\p{N}_])`, "iu").test(text);
}
