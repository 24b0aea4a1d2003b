/**
 * Prints, as JSON, the Kubernetes objects a checkout's Pulumi program declares for a config, with the
 * image digest a real registry served. Run inside the checkout (`tsx <checkout>/e2e/render.ts`), so a
 * second clone renders from its own files. Pulumi's engine and its docker and kubernetes providers
 * cannot be built here (docs/local-platform.md), so the program runs under Pulumi's mocks and the
 * objects are applied to the real API server by server-side apply instead.
 */
import { run } from "../stack/testing/harness.js";

interface Request {
  values: Record<string, string>;
  secrets: Record<string, string>;
  digest: string;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? "{}") as Request;
  const r = await run(request.values, request.secrets, { imageDigest: request.digest });
  const objects = r.resources
    .filter((res) => res.type.startsWith("kubernetes:") && !res.type.startsWith("pulumi:providers:"))
    .map((res) => {
      // The name the object got (the harness names an unnamed one as Pulumi would), as others refer to it.
      const state = res.state as { metadata: Record<string, unknown> };
      return { ...res.inputs, metadata: { ...(res.inputs.metadata as object), name: state.metadata.name } };
    });
  process.stdout.write(JSON.stringify({ objects, imageRef: r.outputs.imageRef }));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
