// Some tests drive programs from outside npm: tmux (the full-screen client in a
// real terminal), Debian's Python gRPC (the interop client) and Debian's
// Chromium (the web client, driven by playwright-core, which downloads no
// browser of its own). Find them, or
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
