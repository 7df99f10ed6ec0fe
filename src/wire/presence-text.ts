/**
 * How presence reads as a line of chat, in the seed's words for one user
 * ("alice has joined the chat") and coalesced for many ("alice, bob and 38
 * others joined the chat"). The server writes it for the seed's clients; our
 * terminal client shows presence events the same way.
 */
export function presenceText(names: readonly string[], online: boolean): string {
  const verb = online ? "joined the chat" : "left the chat";
  if (names.length === 1) return `${names[0]} has ${verb}`;
  if (names.length <= 3) return `${names.slice(0, -1).join(", ")} and ${names.at(-1)} ${verb}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others ${verb}`;
}
