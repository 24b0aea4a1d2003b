import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

import { exportLines, type Platform } from "./env-exports.js";

const platform: Platform = {
  kubeconfig: "/state/kubeconfig",
  dockerHost: "unix:///state/docker/docker.sock",
  registry: "127.0.0.1:15000",
  baseImage: "127.0.0.1:15000/library/node:24-bookworm-slim",
  bin: "/state/bin",
  backendUrl: "file:///state/pulumi-backend",
  passphrase: "it's a 'secret'",
};

describe("platform: the export lines", () => {
  it("give a shell the Pulumi backend and its passphrase, quoted", () => {
    const printed = execFileSync("bash", ["-c", `eval "$0"; printf '%s\\n' "$PULUMI_BACKEND_URL" "$PULUMI_CONFIG_PASSPHRASE" "$KUBECONFIG"`, exportLines(platform)], { encoding: "utf8" });
    assert.equal(printed, "file:///state/pulumi-backend\nit's a 'secret'\n/state/kubeconfig\n");
  });
});
