import { kubeBinary } from "./builds";
import { run } from "./processes";
import { paths } from "./state";

/** kubectl of the platform's own Kubernetes version, against the platform's API server. */
export const kubectl = (args: string[], input?: string): Promise<string> =>
  run(kubeBinary("kubectl"), args, { input, env: { ...process.env, KUBECONFIG: paths.kubeconfig } });
