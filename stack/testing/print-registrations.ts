/**
 * Prints, as JSON, every resource registration and provider call the program makes under mocks for
 * each configuration shape, as a deployment and as a preview. checkouts.test.ts runs it in a child process
 * from several checkouts, in the directory the engine would run the program in, and compares the output.
 */
import { run, type Run } from "./harness.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SHAPES: [Record<string, string>, Record<string, string>][] = [
  [{}, {}],
  [{ registryAuth: "admin", hpaEnabled: "true", exposure: "loadbalancer" }, {}],
  [
    {
      target: "existing",
      registryName: "myacr",
      registryResourceGroup: "rg",
      clusterName: "aks",
      clusterResourceGroup: "rg",
      exposure: "https",
      acmeEmail: "ops@example.com",
      dataFactory: "true",
      authMode: "entra",
      entraTenantId: TENANT,
      entraAudience: "api://adf-webhook",
    },
    {},
  ],
  [{ target: "kubeconfig", registryServer: "registry.example.com", registryUsername: "ci" }, { kubeconfig: "apiVersion: v1\nkind: Config\n", registryPassword: "pw" }],
  [{ target: "containerapps", dataFactory: "true", authMode: "basic", basicAuthUsername: "adf", allowedSourceRanges: "203.0.113.0/24" }, { basicAuthPassword: "pw" }],
];

function describeRun(r: Run) {
  return {
    resources: r.resources.map(({ type, name, inputs, options }) => ({ type, name, inputs, options })),
    calls: r.calls.map(({ token, inputs }) => ({ token, inputs })),
    outputs: r.outputs,
  };
}

async function main(): Promise<void> {
  const runs = [];
  for (const [values, secrets] of SHAPES) {
    for (const preview of [false, true]) runs.push({ preview, ...describeRun(await run(values, secrets, { preview })) });
  }
  process.stdout.write(JSON.stringify({ cwd: process.cwd(), runs }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
