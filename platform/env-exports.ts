/** What a running platform offers a shell or a test: its files, sockets and addresses, and its Pulumi backend. */
export interface Platform {
  kubeconfig: string;
  dockerHost: string;
  registry: string;
  baseImage: string;
  bin: string;
  /** PULUMI_BACKEND_URL: a file:// backend in the state directory. */
  backendUrl: string;
  /** PULUMI_CONFIG_PASSPHRASE: random per platform. */
  passphrase: string;
}

/** The `export` lines that `up` and `env` print, for `eval "$(...)"`; every value single-quoted. */
export function exportLines(p: Platform): string {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  return [
    `export KUBECONFIG=${quote(p.kubeconfig)}`,
    `export DOCKER_HOST=${quote(p.dockerHost)}`,
    `export PATH=${quote(p.bin)}:"$PATH"`,
    `export REGISTRY=${quote(p.registry)}`,
    `export BASE_IMAGE=${quote(p.baseImage)}`,
    `export PULUMI_BACKEND_URL=${quote(p.backendUrl)}`,
    `export PULUMI_CONFIG_PASSPHRASE=${quote(p.passphrase)}`,
    "",
  ].join("\n");
}
