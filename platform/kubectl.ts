import { kubeBinary } from "./builds.js";
import { run } from "./processes.js";
import { paths } from "./state.js";

/** kubectl of the platform's own Kubernetes version, against the platform's API server. */
export const kubectl = (args: string[], input?: string): Promise<string> =>
  run(kubeBinary("kubectl"), args, { input, env: { ...process.env, KUBECONFIG: paths.kubeconfig } });
