/**
 * Every address, range, port and interface name the platform uses, in one place. Everything listens on
 * loopback except the kubelet (on the node's address) and the pods (on the pod bridge). The two bridges'
 * ranges exist only on this machine: nothing is routed or masqueraded beyond them.
 */

/** Loopback only: nothing the platform serves is reachable from another machine. */
export const HOST = "127.0.0.1";

export const PORTS = {
  etcdClient: 23790,
  etcdPeer: 23800,
  apiServer: 16443,
  controllerManager: 20257,
  scheduler: 20259,
  kubelet: 20250,
  kubeletHealthz: 20248,
  registry: 15000,
} as const;

export const REGISTRY = `${HOST}:${PORTS.registry}`;

/**
 * The pods' bridge, with one address per pod. Its first address is the node's: the kubelet refuses a
 * loopback node IP, and the API server reaches the kubelet there (logs, port-forward).
 */
export const POD_BRIDGE = { name: "cni-platform0", cidr: "10.244.0.0/24", address: "10.244.0.1" } as const;
export const NODE_IP = POD_BRIDGE.address;

/**
 * The Docker engine's bridge, its own (with `--bridge=none`, dockerd would delete an existing `docker0`):
 * build containers that are not on the host's network get an address here and reach nothing beyond it.
 */
export const DOCKER_BRIDGE = { name: "platform-dock0", cidr: "10.244.1.0/24", address: "10.244.1.1" } as const;

/** The Service range: addresses the API server hands out to Services, never routed anywhere here. */
export const SERVICE_CIDR = "10.96.0.0/16";
/** The API server's address in the Service range (the first one), named in its certificate. */
export const SERVICE_API_ADDRESS = "10.96.0.1";

/** The CNI network's name: containerd's CNI cache files on the host (/var/lib/cni) start with it. */
export const CNI_NETWORK = "adf-webhook-platform";

/** The cgroup every pod's and build container's cgroup is under, in each hierarchy: made at up, removed at down. */
export const CGROUP_ROOT = "adf-webhook-platform";
