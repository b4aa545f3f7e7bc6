/**
 * The lab's addressing, shared by the local netns lab and the Vagrantfile (which repeats these
 * values; test/overlay checks that they agree). Hosts h1..hN sit on one underlay /24, as three
 * VMs on a VirtualBox/libvirt private network would; .1 is the "outside" (the hypervisor's side),
 * which egress checks ping.
 */
export const UNDERLAY_PREFIX = '192.168.56';
export const UNDERLAY_CIDR = `${UNDERLAY_PREFIX}.0/24`;
export const OUTSIDE_ADDRESS = `${UNDERLAY_PREFIX}.1`;
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

export const hostName = (i: number): string => `h${i}`;
export const hostAddress = (i: number): string => `${UNDERLAY_PREFIX}.${10 + i}`;
export const hostIndex = (name: string): number => {
  const m = /^h(\d+)$/.exec(name);
  if (!m) throw new Error(`host ${JSON.stringify(name)} is not h1, h2, …`);
  return Number(m[1]);
};

export const etcdStoreUrl = (hosts: number): string =>
  `etcd://${Array.from({ length: hosts }, (_, i) => `${hostAddress(i + 1)}:${ETCD_CLIENT_PORT}`).join(',')}`;

export const etcdInitialCluster = (hosts: number): string =>
  Array.from({ length: hosts }, (_, i) => `${hostName(i + 1)}=http://${hostAddress(i + 1)}:${ETCD_PEER_PORT}`).join(',');

/** A container's namespace name on its host: it carries the host's name, so hosts never collide. */
export const containerNetns = (host: string, container: string): string => `${host}-${container}`;

/** A node one-liner that exits 0 when the etcd member at ADDRESS reports itself healthy (node is on every lab host). */
export const etcdHealthArgv = (address: string): string[] => [
  'node', '-e',
  `fetch('http://${address}:${ETCD_CLIENT_PORT}/health').then(r=>r.json()).then(j=>process.exit(j.health==='true'?0:1),()=>process.exit(1))`,
];
