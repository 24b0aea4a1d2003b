/**
 * A scenario's own setup and teardown: the local platform (started, or reused when it runs), a checkout
 * of its own, a stack of its own named after it (its namespace and image tag too), configured with
 * `pulumi config set` as a user would for the platform (docs/local-platform.md). Nothing is carried
 * from another scenario: each one can run alone (`npm run e2e -- e2e/<scenario>.e2e.ts`).
 */
import * as fs from "node:fs";

import { NODE_IP } from "../../platform/containerd.js";
import { up, type Platform } from "../../platform/index.js";
import { cloneCheckout, removeCheckout } from "./checkout.js";
import { deleteNamespace } from "./cluster.js";
import { Deployer, Transcript, type StackBackend } from "./pulumi.js";

/** Where the emulator's callback receiver listens: the node's address, which the pods reach. */
export const RECEIVER = `${NODE_IP}:18099`;

/** The stack settings of a deploy to the local platform, as docs/local-platform.md gives them. */
export function platformSettings(platform: Platform, namespace: string): { values: Record<string, string>; secrets: Record<string, string> } {
  return {
    values: {
      target: "kubeconfig",
      registryServer: platform.registry,
      baseImage: platform.baseImage,
      // The platform's Docker engine has no bridge network: the build's npm ci runs on the host's.
      imageBuildNetwork: "host",
      namespace,
      imageTag: namespace,
      callbackTestReceiver: `http://${RECEIVER}`,
    },
    secrets: { kubeconfig: fs.readFileSync(platform.kubeconfig, "utf8") },
  };
}

export class Scenario {
  platform!: Platform;
  backend!: StackBackend;
  /** The first deployer: the scenario's own checkout and stack. */
  deployer!: Deployer;
  /** The stack's settings as set with `pulumi config set` (the secrets with --secret). */
  values: Record<string, string> = {};
  secrets: Record<string, string> = {};
  /** Every command of the scenario and its output. */
  readonly transcript = new Transcript();
  private readonly checkouts: string[] = [];
  private readonly stacks: Deployer[] = [];

  /** `name` is the stack's, its namespace's and its image tag's. */
  constructor(readonly name: string) {}

  /** The platform, a full clone, `pulumi stack init` and the stack's settings. */
  async start(values: Record<string, string> = {}, secrets: Record<string, string> = {}): Promise<Deployer> {
    this.platform = await up();
    // The platform's backend (a file:// one in its state directory) and passphrase, as its `env` exports them.
    this.backend = { backendUrl: this.platform.backendUrl, passphrase: this.platform.passphrase };
    const settings = platformSettings(this.platform, this.name);
    this.values = { ...settings.values, ...values };
    this.secrets = { ...settings.secrets, ...secrets };
    this.deployer = await this.newStack(this.name, await this.checkout(), this.values, this.secrets);
    return this.deployer;
  }

  /** `start`, then a first `pulumi up` (without its preview: a setup, not what the scenario observes). */
  async deployed(values: Record<string, string> = {}, secrets: Record<string, string> = {}): Promise<Deployer> {
    const deployer = await this.start(values, secrets);
    await deployer.up(["--skip-preview"]);
    return deployer;
  }

  /** A checkout of its own (a full clone, or at `depth`, of `from`), removed at the end. */
  async checkout(depth?: number, from?: string): Promise<string> {
    const dir = await cloneCheckout(depth, from);
    this.checkouts.push(dir);
    return dir;
  }

  /** A deployer in `checkout` of an existing stack, with the scenario's environment. */
  deployerIn(checkout: string, stack = this.name): Deployer {
    return new Deployer(checkout, stack, this.backend, { DOCKER_HOST: this.platform.dockerHost }, this.transcript);
  }

  /** `pulumi stack init` of another stack in `checkout`, with its settings; destroyed at the end. */
  async newStack(stack: string, checkout: string, values: Record<string, string>, secrets: Record<string, string>): Promise<Deployer> {
    const deployer = this.deployerIn(checkout, stack);
    // What a crashed earlier run may have left: its stack in the platform's backend, its namespace.
    await deployer.run(["stack", "rm", "--stack", stack, "--force", "--yes"]);
    await deleteNamespace(values.namespace ?? stack);
    await deployer.init(values, secrets);
    this.stacks.push(deployer);
    return deployer;
  }

  /** `pulumi config set` on the scenario's stack, and the settings the mocks will be given. */
  async configure(values: Record<string, string>): Promise<void> {
    await this.deployer.configure(values);
    this.values = { ...this.values, ...values };
  }

  /** `pulumi destroy` and `pulumi stack rm` of every stack it made, then its checkouts go. */
  async end(): Promise<void> {
    const errors: unknown[] = [];
    for (const deployer of this.stacks.reverse()) {
      try {
        await deployer.destroy();
        await deployer.removeStack();
      } catch (error) {
        errors.push(error);
      }
    }
    for (const dir of this.checkouts) removeCheckout(dir);
    if (errors.length > 0) throw errors[0];
  }
}
