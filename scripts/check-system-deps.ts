// Some tests drive programs from outside npm: tmux (the full-screen client in a
// real terminal), Debian's Python gRPC (the interop client), Debian's
// Chromium (the web client, driven by playwright-core, which downloads no
// browser of its own), Prometheus's promtool (the metrics linter) and curl
// (what posts to a webhook). Find them, or
// install them where we can (root on Debian, as in CI), or say exactly what
// to run; a test suite that skips them quietly would be lying.
import { spawnSync } from "node:child_process";

const PYTHON = "/usr/bin/python3";
const CHROMIUM = "/usr/bin/chromium";

function ok(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

function missing(): string[] {
  const packages: string[] = [];
  if (!ok("tmux", ["-V"])) packages.push("tmux");
  // The TLS test makes its certificate with openssl.
  if (!ok("openssl", ["version"])) packages.push("openssl");
  if (!ok("curl", ["--version"])) packages.push("curl");
  // The metrics test lints a real scrape with Prometheus's own promtool.
  if (!ok("promtool", ["--version"])) packages.push("prometheus");
  if (!ok(CHROMIUM, ["--version"])) packages.push("chromium");
  if (!ok(PYTHON, ["-c", "import grpc, google.protobuf"])) {
    packages.push("python3", "python3-grpcio", "python3-protobuf");
  }
  return packages;
}

let packages = missing();
if (packages.length > 0 && process.getuid?.() === 0 && ok("apt-get", ["--version"])) {
  process.stderr.write(`Installing test tools from Debian: ${packages.join(" ")}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  spawnSync("apt-get", ["install", "-y", "-qq", ...packages], { stdio: "inherit", env });
  packages = missing();
}
if (packages.length > 0) {
  process.stderr.write(
    `The tests need ${packages.join(", ")}. On Debian or Ubuntu: sudo apt-get install -y ${packages.join(" ")}\n`,
  );
  process.exit(1);
}

// The PostgreSQL store and the Redis bus are tested on the real servers:
// start them if they are installed but not running (as root, as in CI).
const services = [
  {
    name: "PostgreSQL",
    service: "postgresql",
    configured: process.env.GRPC_CHAT_TEST_PG,
    up: () => ok("pg_isready", ["-q", "-h", "127.0.0.1", "-p", "5432"]),
    need: "a PostgreSQL server on 127.0.0.1:5432 that lets user postgres into database test without a password (or GRPC_CHAT_TEST_PG=postgres://...)",
  },
  {
    name: "Redis",
    service: "redis-server",
    configured: process.env.GRPC_CHAT_TEST_REDIS,
    up: () => ok("redis-cli", ["-h", "127.0.0.1", "-p", "6379", "ping"]),
    need: "a Redis server on 127.0.0.1:6379 (or GRPC_CHAT_TEST_REDIS=redis://...)",
  },
];
for (const { name, service, configured, up, need } of services) {
  if (configured || up()) continue;
  if (process.getuid?.() === 0 && ok("service", [service, "start"]) && up()) {
    process.stderr.write(`Started ${name} for the tests.\n`);
    continue;
  }
  process.stderr.write(`The tests need ${need}.\n`);
  process.exit(1);
}
