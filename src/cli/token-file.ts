import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Where the terminal client keeps its login tokens, one per server:
 * $XDG_CONFIG_HOME/grpc-chat/tokens.json (else ~/.config/...), readable by
 * its owner only, since a token is as good as the password for its life.
 */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(config, "grpc-chat", "tokens.json");
}

function readAll(path: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    return parsed && typeof parsed === "object" ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function readToken(server: string, path = tokenFilePath()): string | undefined {
  const token = readAll(path)[server];
  return typeof token === "string" ? token : undefined;
}

/** Saves (or, with undefined, forgets) the token for `server`; the file is mode 0600. */
export function saveToken(server: string, token: string | undefined, path = tokenFilePath()): void {
  const all = readAll(path);
  if (token === undefined) delete all[server];
  else all[server] = token;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
}
