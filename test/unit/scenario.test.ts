/** The scenario grammar (scenarios/lab/scenario.ts): pure parsing of the port checks and the serve step. */
import { describe, expect, test } from 'vitest';
import { dockerDriverArgs } from '../../scenarios/lab/dockerd.js';
import { answerSays } from '../../scenarios/lab/echo.js';
import { parseScenario } from '../../scenarios/lab/scenario.js';

const parse = (body: string): ReturnType<typeof parseScenario>['steps'] => parseScenario(`scenario t\n${body}\n`, 't.scn').steps;
const one = (line: string): unknown => {
  const [s] = parse(line);
  if (!s) throw new Error('no step');
  const { line: _n, text: _t, ...step } = s;
  return step;
};

describe('serve', () => {
  test('defaults to tcp; takes udp', () => {
    expect(one('serve a 80')).toEqual({ kind: 'serve', container: 'a', port: 80, proto: 'tcp' });
    expect(one('serve a 53 udp')).toEqual({ kind: 'serve', container: 'a', port: 53, proto: 'udp' });
  });
  test.each(['serve a', 'serve a 0', 'serve a 70000', 'serve a 80 sctp', 'serve a http', 'serve a 80 tcp x', 'serve h1 80'])('rejects %j', (l) => {
    expect(() => parse(l)).toThrow(/t\.scn:2: /);
  });
});

describe('tcp / no-tcp / udp checks', () => {
  test('from a host namespace to a host address', () => {
    expect(one('tcp h2 -> h1:8080')).toEqual({ kind: 'connect', proto: 'tcp', from: 'h2', to: 'h1', port: 8080, expect: true });
  });
  test('says TEXT keeps every word', () => {
    expect(one('tcp c -> h1:8080 says a 192.168.56.11')).toMatchObject({ from: 'c', to: 'h1', says: 'a 192.168.56.11' });
  });
  test('to a container or an address', () => {
    expect(one('tcp b -> a:80')).toMatchObject({ to: 'a', port: 80 });
    expect(one('udp b -> 10.49.0.2:53')).toEqual({ kind: 'connect', proto: 'udp', from: 'b', to: '10.49.0.2', port: 53, expect: true });
  });
  test('negative checks', () => {
    expect(one('no-tcp h2 -> h1:8080')).toEqual({ kind: 'connect', proto: 'tcp', from: 'h2', to: 'h1', port: 8080, expect: false });
    expect(one('no-udp h2 -> h1:53')).toMatchObject({ proto: 'udp', expect: false });
  });
  test.each([
    'tcp h2 h1:8080', 'tcp h2 -> h1', 'tcp h2 -> h1:', 'tcp h2 -> :80', 'tcp h2 -> h1:http', 'tcp h2 -> h1:65536',
    'tcp h2 -> h1:80 says', 'tcp h2 -> h1:80 with a', 'no-tcp h2 -> h1:80 says a',
  ])('rejects %j', (l) => {
    expect(() => parse(l)).toThrow(/t\.scn:2: /);
  });
  test('inside repeat', () => {
    expect(parse('repeat 2\ntcp h{i} -> h3:80\nend').map((s) => s.kind === 'connect' && s.from)).toEqual(['h1', 'h2']);
  });
});

describe('IPv6 checks', () => {
  test('ping takes ipv6 anywhere after the target; IPv4 is the default', () => {
    expect(one('ping a -> b')).toMatchObject({ kind: 'ping', family: 4 });
    expect(one('ping a -> c ipv6 size 1402 df')).toEqual({ kind: 'ping', from: 'a', to: 'c', expect: true, family: 6, size: 1402, df: true });
  });
  test('entries and delete-neighbour take a trailing ipv6', () => {
    expect(one('entries on h1 ov has c ipv6')).toEqual({ kind: 'entries', host: 'h1', network: 'ov', container: 'c', present: true, family: 6 });
    expect(one('entries on h1 ov lacks c')).toMatchObject({ present: false, family: 4 });
    expect(one('delete-neighbour on h1 ov c ipv6')).toEqual({ kind: 'deleteNeighbour', host: 'h1', network: 'ov', container: 'c', family: 6 });
  });
  test.each(['entries on h1 ov has c ipv4', 'entries on h1 ov has c ipv6 x', 'delete-neighbour on h1 ov', 'delete-neighbour h1 ov c', 'delete-neighbour on h1 ov c v6'])('rejects %j', (l) => {
    expect(() => parse(l)).toThrow(/t\.scn:2: /);
  });
});

test('a container may not be named like a host: checks resolve hN to the host', () => {
  expect(() => parse('container h1 on h2')).toThrow(/names like h1 are hosts/);
});

describe('answerSays', () => {
  test('matches whole words in order', () => {
    expect(answerSays('a 192.168.56.12\n', 'a')).toBe(true);
    expect(answerSays('a 192.168.56.12', 'a 192.168.56.12')).toBe(true);
    expect(answerSays('b 192.168.56.12', 'a')).toBe(false);
    expect(answerSays('a 192.168.56.12', '192.168.56.1')).toBe(false);
  });
});

describe('docker steps', () => {
  test('on HOST docker ARGS and docker-ping; the scenario lists the hosts that run dockerd', () => {
    expect(one('on h1 docker run -d --network dov tnet-busybox sleep 9')).toEqual({ kind: 'docker', host: 'h1', args: ['run', '-d', '--network', 'dov', 'tnet-busybox', 'sleep', '9'] });
    expect(one('docker-ping h1 web -> b')).toEqual({ kind: 'dockerPing', host: 'h1', from: 'web', to: 'b' });
    expect(parseScenario('scenario t\non h2 docker ps\ndocker-ping h1 w -> 10.0.0.1\non h2 docker ps\n', 't.scn').docker).toEqual(['h2', 'h1']);
    expect(parseScenario('scenario t\nwait 1\n', 't.scn').docker).toEqual([]);
  });
  test.each(['docker-ping h1 web b', 'docker-ping h1 web ->', 'docker-ping h1 web -> b c'])('rejects %j', (l) => {
    expect(() => parse(l)).toThrow(/t\.scn:2: expected: docker-ping/);
  });
  test('the driver name tnet stands for the host\'s plugin after -d, --driver and --ipam-driver only', () => {
    expect(dockerDriverArgs(['network', 'create', '-d', 'tnet', '--ipam-driver', 'tnet', '--driver', 'tnet', '--label', 'tnet', 'tnet'], 'tdlabh1'))
      .toEqual(['network', 'create', '-d', 'tdlabh1', '--ipam-driver', 'tdlabh1', '--driver', 'tdlabh1', '--label', 'tnet', 'tnet']);
  });
});

describe('on HOST fails …', () => {
  test('tnet and docker commands that must fail, with the text their error must hold', () => {
    expect(one('on h1 fails tnet create --subnet bad x ~ invalid subnet')).toEqual({ kind: 'tnet', host: 'h1', args: ['create', '--subnet', 'bad', 'x'], fails: 'invalid subnet' });
    expect(one('on h2 fails docker run --ip 10.0.0.5 img ~ 10.0.0.5')).toEqual({ kind: 'docker', host: 'h2', args: ['run', '--ip', '10.0.0.5', 'img'], fails: '10.0.0.5' });
  });
  test.each(['on h1 fails tnet ls', 'on h1 fails docker ps', 'on h1 fails sh true ~ x'])('rejects %j', (l) => {
    expect(() => parse(l)).toThrow(/t\.scn:2: /);
  });
});
