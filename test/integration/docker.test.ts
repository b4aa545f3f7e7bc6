/**
 * Docker 20.10 (Debian's docker.io) with tnet as its network and IPAM driver: a private dockerd
 * in a lab host, the tnet daemon (docker role) serving its plugin socket, and the real docker
 * CLI. Docker's iptables and userland proxy are off, so what connects containers, resolves names
 * (Docker's embedded DNS on tnet's interfaces) and publishes ports is tnet's doing. One dockerd
 * for the whole file; each test leaves no container or network behind.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_IMAGE, exec } from '../../scenarios/lab/dockerd.js';
import { startDockerLab, type DockerLab } from '../helpers/docker.js';
import { HOST_UPLINK_V4, OUTSIDE_V4 } from '../helpers/lab-host.js';
import { tryRun } from '../helpers/sh.js';
import { makeStateDir } from '../helpers/state-dir.js';

let d: DockerLab;
const docker = (...args: string[]) => d.dockerd.docker(...args);
const ok = (...args: string[]) => d.dockerd.ok(...args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  d = await startDockerLab('dk');
}, 180_000);
afterAll(async () => {
  await d?.destroy();
}, 180_000);

interface TnetEndpoint {
  readonly ipv4?: string;
  readonly ifname: string;
  readonly aliases: readonly string[];
  readonly ports?: ReadonlyArray<{ hostPort: number; containerPort: number }>;
  readonly owner: { readonly kind: string; readonly endpointId?: string };
  readonly handover?: { readonly state: string; readonly gateway?: boolean };
}
interface TnetNetwork {
  readonly network: { readonly name: string; readonly mtu: number; readonly labels: Record<string, string>; readonly ipv4?: { subnet: string; gateway: string } };
  readonly endpoints: readonly TnetEndpoint[];
}

const tnetNetworks = async (): Promise<string[]> => (JSON.parse(await d.lab.ok('ls', '--json')) as Array<{ name: string }>).map((n) => n.name);
const inspect = async (name: string): Promise<TnetNetwork> => {
  const all = JSON.parse(await d.lab.ok('inspect', name)) as TnetNetwork[];
  const n = all[0];
  if (n === undefined) throw new Error(`no tnet network ${name}`);
  return n;
};

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not so after ${timeoutMs} ms; tnet daemon log:\n${d.daemon().log().split('\n').slice(-25).join('\n')}`);
    await sleep(100);
  }
};

/** Every Docker endpoint on the network placed: tnet repairs them from now on. */
const placed = (network: string, count: number) =>
  until(`${count} endpoint(s) of ${network} placed`, async () => {
    const eps = (await inspect(network)).endpoints.filter((e) => e.owner.kind === 'docker');
    return eps.length === count && eps.every((e) => e.handover?.state === 'placed');
  });

const run = (name: string, ...args: string[]) => ok('run', '-d', '--name', name, ...args, DOCKER_IMAGE, 'sleep', '3600');
const web = (name: string, ...args: string[]) => ok('run', '-d', '--name', name, ...args, DOCKER_IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www');
const inside = (name: string, ...cmd: string[]) => docker('exec', name, ...cmd);
const removeAll = async (): Promise<void> => {
  const ids = (await docker('ps', '-aq')).stdout.split('\n').filter((s) => s !== '');
  if (ids.length > 0) await ok('rm', '-f', ...ids);
};

/** Nothing of tnet's left in the lab host: no network, no link, no port map. */
const nothingLeft = async (): Promise<void> => {
  expect(await tnetNetworks()).toEqual([]);
  expect(d.lab.tnetLinks()).toEqual([]);
  expect(tryRun('ip', '-n', d.lab.ns, '-o', 'link', 'show').stdout).not.toMatch(/: tnd/);
  expect(d.lab.nftTable() ?? '').not.toMatch(/dnat/);
};

const wget = (ns: string, url: string) => tryRun('ip', 'netns', 'exec', ns, 'busybox', 'wget', '-qO-', url);

describe('docker network create -d tnet', () => {
  it('makes a tnet network of that name with Docker\'s pool and the -o options, labelled as Docker\'s; network rm removes it', async () => {
    const id = await ok('network', 'create', '-d', d.driver, '--subnet', '10.77.0.0/24', '--gateway', '10.77.0.254', '-o', 'tnet.mtu=1400', 'tdopts');
    await until('the network named as in Docker', async () => (await tnetNetworks()).includes('tdopts'));
    const n = (await inspect('tdopts')).network;
    expect(n).toMatchObject({ mtu: 1400, ipv4: { subnet: '10.77.0.0/24', gateway: '10.77.0.254' }, labels: { 'tnet.docker.network': id } });
    await ok('network', 'rm', 'tdopts');
    await nothingLeft();
  }, 60_000);

  it('--internal: containers get no default route (Docker would install the gateway tnet offered)', async () => {
    await ok('network', 'create', '-d', d.driver, '--internal', '--subnet', '10.75.0.0/24', 'tdint');
    await run('tdi', '--network', 'tdint');
    await placed('tdint', 1);
    expect((await inside('tdi', 'ip', 'route')).stdout).not.toMatch(/default/);
    await removeAll();
    await ok('network', 'rm', 'tdint');
    await nothingLeft();
  }, 60_000);

  it('--ipv6: containers get an address of the IPv6 subnet and a default route through the gateway tnet offered, and reach each other', async () => {
    await ok('network', 'create', '-d', d.driver, '--ipv6', '--subnet', '10.74.0.0/24', '--subnet', 'fd74:74::/64', 'tdv6');
    const n = (await inspect('tdv6')).network as { ipv6?: { subnet: string; gateway: string } };
    expect(n.ipv6?.subnet).toBe('fd74:74::/64');
    await run('tdv6a', '--network', 'tdv6');
    await run('tdv6b', '--network', 'tdv6', '--ip6', 'fd74:74::50');
    await placed('tdv6', 2);
    expect((await inside('tdv6a', 'ip', '-6', 'addr', 'show', 'eth0')).stdout).toMatch(/inet6 fd74:74::[0-9a-f:]+\/64/);
    expect((await inside('tdv6a', 'ip', '-6', 'route')).stdout).toContain(`default via ${n.ipv6?.gateway ?? '?'} dev eth0`);
    const ping = await inside('tdv6a', 'ping', '-6', '-c1', '-W2', 'fd74:74::50');
    expect(ping.code, `${ping.stdout}${ping.stderr}`).toBe(0);
    const gw = await inside('tdv6b', 'ping', '-6', '-c1', '-W2', n.ipv6?.gateway ?? '?');
    expect(gw.code, `${gw.stdout}${gw.stderr}`).toBe(0);
    await removeAll();
    await ok('network', 'rm', 'tdv6');
    await nothingLeft();
  }, 60_000);

  it('refuses bad -o options and clashing subnets with tnet\'s message, and creates nothing', async () => {
    const bad = [
      [['-o', 'tnet.mtuu=1400'], /remote: -o: unknown option "tnet\.mtuu"; tnet takes tnet\.network/],
      [['-o', 'tnet.mtu=big'], /remote: -o tnet\.mtu: "big" is not allowed; expected an integer from 68 to 65535/],
      [['-o', 'tnet.network=tdnope'], /remote: -o tnet\.network: network "tdnope" not found/],
      // The lab host's uplink route.
      [['--subnet', '203.0.113.0/25'], /remote: subnet 203\.0\.113\.0\/25 overlaps route 203\.0\.113\.0\/24 on this host/],
    ] as const;
    for (const [args, message] of bad) {
      const r = await docker('network', 'create', '-d', d.driver, ...args, 'tdbad');
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
    expect((await ok('network', 'ls', '--format', '{{.Name}}')).split('\n')).not.toContain('tdbad');
    await nothingLeft();
  }, 60_000);

  it('with tnet\'s IPAM: a subnet clear of the host\'s routes; a --subnet on a route and an --ip outside the subnet refused', async () => {
    await ok('network', 'create', '-d', d.driver, '--ipam-driver', d.driver, 'tdipam');
    await until('named', async () => (await tnetNetworks()).includes('tdipam'));
    const subnet = (await inspect('tdipam')).network.ipv4?.subnet ?? '';
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.0\/\d+$/);
    expect(subnet.startsWith('203.0.113.')).toBe(false);
    const routed = await docker('network', 'create', '-d', d.driver, '--ipam-driver', d.driver, '--subnet', '203.0.113.128/25', 'tdbad');
    expect(routed.stderr).toMatch(/remote: --subnet 203\.0\.113\.128\/25 overlaps route 203\.0\.113\.0\/24 on this host/);
    await ok('network', 'create', '-d', d.driver, '--ipam-driver', d.driver, '--subnet', '10.76.0.0/24', 'tdipam2');
    const r = await docker('run', '--rm', '--network', 'tdipam2', '--ip', '10.76.1.9', DOCKER_IMAGE, 'true');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/10\.76\.1\.9/);
    await ok('network', 'rm', 'tdipam', 'tdipam2');
    await nothingLeft();
  }, 60_000);
});

describe('containers on a tnet network', () => {
  it('run, --ip, --network-alias, names through Docker\'s DNS, connect and disconnect, rm: nothing left', async () => {
    await ok('network', 'create', '-d', d.driver, '--subnet', '10.78.0.0/24', 'tdapp');
    await ok('network', 'create', '-d', d.driver, '--subnet', '10.79.0.0/24', 'tdback');
    await run('tda', '--network', 'tdapp');
    await run('tdb', '--network', 'tdapp', '--ip', '10.78.0.50', '--network-alias', 'tdalias', '--mac-address', '02:42:0a:4e:00:32');
    await placed('tdapp', 2);
    const eth0 = (await inside('tdb', 'ip', 'addr', 'show', 'eth0')).stdout;
    expect(eth0).toContain('inet 10.78.0.50/24');
    expect(eth0).toContain('link/ether 02:42:0a:4e:00:32');
    expect((await inside('tda', 'ip', 'route')).stdout).toMatch(/default via 10\.78\.0\.1 dev eth0/);
    for (const name of ['tdb', 'tdalias']) {
      const r = await inside('tda', 'ping', '-c1', '-W2', name);
      expect(r.stdout, `${r.stdout}${r.stderr}`).toContain('10.78.0.50');
    }
    // A second network on a running container: Docker moves it in during Join.
    await ok('network', 'connect', 'tdback', 'tda');
    await placed('tdback', 1);
    expect((await inside('tda', 'ip', '-4', 'addr', 'show', 'eth1')).stdout).toMatch(/inet 10\.79\.0\.\d+\/24/);
    await ok('network', 'disconnect', 'tdback', 'tda');
    // DeleteEndpoint is answered once the endpoint is marked: its veth goes right after.
    await until('the endpoint on tdback gone', async () => (await inspect('tdback')).endpoints.length === 0, 3_000);
    expect((await inside('tda', 'ip', 'link')).stdout).not.toContain('eth1');
    expect((await inside('tda', 'ping', '-c1', '-W2', 'tdb')).code).toBe(0);
    await removeAll();
    await until('the endpoints on tdapp gone', async () => (await inspect('tdapp')).endpoints.length === 0, 3_000);
    await ok('network', 'rm', 'tdapp', 'tdback');
    await nothingLeft();
  }, 120_000);

  it('-p publishes through tnet\'s port map: reachable from outside with the client\'s address kept, and from the host\'s localhost', async () => {
    await ok('network', 'create', '-d', d.driver, 'tdpub');
    await web('tdweb', '--network', 'tdpub', '-p', '18080:80', '-P', '--expose', '81');
    await placed('tdpub', 1);
    const [ep] = (await inspect('tdpub')).endpoints;
    expect(ep?.ports?.map((p) => [p.containerPort, p.hostPort])).toEqual(expect.arrayContaining([[80, 18080], [81, expect.any(Number)]]));
    const fromOutside = wget(d.lab.outside, `http://${HOST_UPLINK_V4}:18080/cgi-bin/ip`);
    // busybox httpd listens on [::] and sees IPv4 clients as mapped addresses.
    expect(fromOutside.stdout.trim(), fromOutside.stderr).toBe(`[::ffff:${OUTSIDE_V4}]`);
    expect(wget(d.lab.ns, 'http://127.0.0.1:18080/').stdout).toBe('hello from tnet\n');
    await removeAll();
    // The port is unpublished with the container.
    expect(wget(d.lab.outside, `http://${HOST_UPLINK_V4}:18080/`).status).not.toBe(0);
    await ok('network', 'rm', 'tdpub');
    await nothingLeft();
  }, 120_000);
});

describe('-o tnet.network: a Docker network standing for an existing tnet network', () => {
  it('puts Docker containers beside tnet\'s own endpoints (addresses from tnet\'s IPAM); network rm leaves the tnet network as it was', async () => {
    await d.lab.ok('create', '--subnet', '10.81.0.0/24', 'tdexist');
    const ns = d.lab.container('plain');
    await d.lab.ok('connect', 'tdexist', '--netns', ns, '--ip', '10.81.0.10');
    const attach = ['network', 'create', '-d', d.driver, '--ipam-driver', d.driver, '--ipam-opt', 'tnet.network=tdexist', '-o', 'tnet.network=tdexist'];
    const noSubnet = await docker(...attach, 'tdx');
    expect(noSubnet.stderr).toMatch(/remote: --subnet: give --subnet 10\.81\.0\.0\/24 with --ipam-opt tnet\.network=tdexist/);
    const defaultIpam = await docker('network', 'create', '-d', d.driver, '--subnet', '10.81.0.0/24', '-o', 'tnet.network=tdexist', 'tdx');
    expect(defaultIpam.stderr).toMatch(/remote: --ipam-driver: a Docker network on tnet network "tdexist" needs tnet's IPAM/);
    await ok(...attach, '--subnet', '10.81.0.0/24', 'tdx');
    await run('tdxa', '--network', 'tdx');
    await placed('tdexist', 1);
    const [ep] = (await inspect('tdexist')).endpoints.filter((e) => e.owner.kind === 'docker');
    expect(ep?.ipv4).toMatch(/^10\.81\.0\.\d+$/);
    expect(ep?.ipv4).not.toBe('10.81.0.10');
    expect((await inside('tdxa', 'ping', '-c1', '-W2', '10.81.0.10')).code).toBe(0);
    await removeAll();
    await ok('network', 'rm', 'tdx');
    const left = await inspect('tdexist');
    expect(left.endpoints.map((e) => e.owner.kind)).toEqual(['cli']);
    await d.lab.ok('rm', '--force', 'tdexist');
    await nothingLeft();
  }, 90_000);
});

/** One raw call on the plugin socket, as dockerd makes them. */
const pluginCall = (path: string, body: string): Promise<{ status: number; reply: Record<string, unknown> }> =>
  new Promise((resolve, reject) => {
    const req = request({ socketPath: d.pluginSocket, path, method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reply: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });

describe('bad input on the plugin socket', () => {
  it('answers malformed JSON, unknown calls and unknown ids with an error Docker reads, and keeps serving', async () => {
    const NID = 'a'.repeat(64);
    const EID = 'b'.repeat(64);
    expect(await pluginCall('/NetworkDriver.CreateNetwork', '{"NetworkID":')).toMatchObject({ reply: { Err: expect.stringMatching(/CreateNetwork: the body is not JSON/) } });
    expect(await pluginCall('/NetworkDriver.AllocateNetwork', '{}')).toMatchObject({ status: 404, reply: { Err: expect.stringMatching(/no such call/) } });
    expect(await pluginCall('/IpamDriver.RequestAddress', JSON.stringify({ PoolID: 'tnet-nope', Address: '' }))).toMatchObject({ reply: { Error: expect.stringMatching(/pool tnet-nope is unknown to tnet/) } });
    const join = await pluginCall('/NetworkDriver.Join', JSON.stringify({ NetworkID: NID, EndpointID: EID, SandboxKey: '/x', Options: {} }));
    expect(join.reply['Err']).toMatch(/network aaaaaaaaaaaa is unknown to tnet/);
    // Deletes of what tnet never saw succeed: Docker carries on with its own cleanup.
    for (const call of ['DeleteEndpoint', 'Leave', 'RevokeExternalConnectivity']) expect((await pluginCall(`/NetworkDriver.${call}`, JSON.stringify({ NetworkID: NID, EndpointID: EID }))).reply).toEqual({});
    expect((await pluginCall('/NetworkDriver.DeleteNetwork', JSON.stringify({ NetworkID: NID }))).reply).toEqual({});
    expect(await pluginCall('/Plugin.Activate', '')).toMatchObject({ reply: { Implements: ['NetworkDriver', 'IpamDriver'] } });
    await nothingLeft();
  }, 30_000);
});

describe('restarts', () => {
  it('dockerd killed and started again: its restart-always containers come back on tnet and find each other; the old endpoints are gone', async () => {
    await ok('network', 'create', '-d', d.driver, 'tdrs');
    await run('tdra', '--network', 'tdrs', '--restart', 'always');
    await run('tdrb', '--network', 'tdrs', '--restart', 'always');
    await placed('tdrs', 2);
    await d.dockerd.stop('SIGKILL');
    await d.dockerd.start();
    await until('both containers running again', async () => (await ok('ps', '-q', '--filter', 'network=tdrs')).split('\n').filter((s) => s !== '').length === 2, 60_000);
    await placed('tdrs', 2);
    expect((await inside('tdra', 'ping', '-c1', '-W2', 'tdrb')).code).toBe(0);
    await removeAll();
    await ok('network', 'rm', 'tdrs');
    await nothingLeft();
  }, 180_000);

  it('the tnet daemon killed -9 and started again: containers keep their networking, new ones join, network rm leaves nothing', async () => {
    await ok('network', 'create', '-d', d.driver, 'tdkd');
    await run('tdka', '--network', 'tdkd');
    await web('tdkw', '--network', 'tdkd', '-p', '18081:80');
    await placed('tdkd', 2);
    await d.daemon().stop('SIGKILL');
    expect((await inside('tdka', 'ping', '-c1', '-W2', 'tdkw')).code).toBe(0);
    await d.startDaemon();
    expect(wget(d.lab.outside, `http://${HOST_UPLINK_V4}:18081/cgi-bin/ip`).stdout.trim()).toBe(`[::ffff:${OUTSIDE_V4}]`);
    await run('tdkb', '--network', 'tdkd');
    await placed('tdkd', 3);
    expect((await inside('tdkb', 'wget', '-qO-', 'http://tdkw/')).stdout).toBe('hello from tnet\n');
    await removeAll();
    await d.daemon().stop('SIGTERM');
    await d.startDaemon();
    await ok('network', 'rm', 'tdkd');
    await nothingLeft();
  }, 180_000);
});

describe('docker-compose 1.29', () => {
  it('brings up two services on a driver: tnet network: one reaches the other by service name, the published port answers, down leaves nothing', async () => {
    const dir = makeStateDir('compose');
    try {
      const file = join(dir.dir, 'docker-compose.yml');
      writeFileSync(file, [
        "version: '2.4'",
        'services:',
        '  web:',
        `    image: ${DOCKER_IMAGE}`,
        '    command: httpd -f -p 80 -h /www',
        "    ports: ['18090:80']",
        '    networks: [app]',
        '  client:',
        `    image: ${DOCKER_IMAGE}`,
        '    command: sleep 3600',
        '    networks: [app]',
        'networks:',
        '  app:',
        `    driver: ${d.driver}`,
        '',
      ].join('\n'));
      const compose = (...args: string[]) => exec('docker-compose', ['-p', 'tdc', '-f', file, ...args], { ...process.env, DOCKER_HOST: d.dockerd.host });
      const up = await compose('up', '-d');
      expect(up.code, up.stderr).toBe(0);
      await until('the network named as compose named it', async () => (await tnetNetworks()).join() === 'tdc_app');
      await placed('tdc_app', 2);
      expect((await inside('tdc_client_1', 'wget', '-qO-', 'http://web/')).stdout).toBe('hello from tnet\n');
      expect(wget(d.lab.outside, `http://${HOST_UPLINK_V4}:18090/`).stdout).toBe('hello from tnet\n');
      const down = await compose('down', '-t', '0');
      expect(down.code, down.stderr).toBe(0);
      await nothingLeft();
    } finally {
      dir.remove();
    }
  }, 120_000);
});
