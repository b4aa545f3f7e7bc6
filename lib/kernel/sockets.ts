/**
 * UDP and TCP sockets in a given network namespace, for servers that must live in the host
 * namespace tnet acts on (the DNS server on the gateways) whatever namespace the process runs in.
 * A socket belongs to the namespace of the thread that creates it, forever; Node creates its
 * sockets lazily, possibly after an await, so the fd is made here instead: socket(2) alone runs
 * inside withNetns (synchronous, no threadpool), then bind/listen and Node's handle work from
 * anywhere. Measured: dgram's bind({fd}) and net's listen({fd}) take such fds as they are.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, Socket as TcpSocket, type Server } from 'node:net';
import { formatAddress, parseAddress } from '../model/cidr.js';
import type { IpFamily } from '../model/types.js';
import { bindFd, closeFd, listenFd, setIntOption, socketFd } from './libc.js';
import { withNetns } from './netns.js';
import type { NetnsHandle } from './types.js';

const AF = { 4: 2, 6: 10 } as const;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_RCVBUFFORCE = 33;
/** A burst of queries waits here while the process is busy, instead of being dropped at the default ~200 KiB. */
const UDP_RECEIVE_BUFFER = 4 << 20;
const SOL_IP = 0;
const IP_FREEBIND = 15;
const SOL_IPV6 = 41;
const IPV6_V6ONLY = 26;
const IPV6_FREEBIND = 78;

/** struct sockaddr_in / sockaddr_in6 for address:port. */
const sockaddr = (address: string, port: number): Buffer => {
  const a = parseAddress(address);
  const bytes = Buffer.from(a.value.toString(16).padStart(a.family === 4 ? 8 : 32, '0'), 'hex');
  const out = Buffer.alloc(a.family === 4 ? 16 : 28);
  out.writeUInt16LE(AF[a.family], 0);
  out.writeUInt16BE(port, 2);
  bytes.copy(out, a.family === 4 ? 4 : 8);
  return out;
};

const familyOf = (address: string): IpFamily => parseAddress(address).family;

/**
 * A socket made in netns and bound to address:port. `freebind`: bind even while the address is
 * not (yet, or any more) on an interface, so a listener never depends on the order in which the
 * bridge and its address appear, and survives the address being flushed and restored.
 */
const boundFd = (netns: NetnsHandle, type: number, address: string, port: number, freebind: boolean): number => {
  const family = familyOf(address);
  const target = `${family === 6 ? `[${address}]` : address}:${port} in ${netns.path}`;
  const fd = withNetns(netns.fd, () => socketFd(AF[family], type, target));
  try {
    if (type === SOCK_STREAM) setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, target);
    else if (port !== 0) trySetIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, UDP_RECEIVE_BUFFER);
    if (family === 6) setIntOption(fd, SOL_IPV6, IPV6_V6ONLY, 1, target);
    if (freebind) setIntOption(fd, family === 4 ? SOL_IP : SOL_IPV6, family === 4 ? IP_FREEBIND : IPV6_FREEBIND, 1, target);
    bindFd(fd, sockaddr(address, port), target);
    if (type === SOCK_STREAM) listenFd(fd, 511, target);
    return fd;
  } catch (e) {
    closeFd(fd);
    throw e;
  }
};

/** Root may exceed net.core.rmem_max; anyone else keeps the default, which still works. */
const trySetIntOption = (fd: number, level: number, name: number, value: number): void => {
  try {
    setIntOption(fd, level, name, value, 'socket option');
  } catch {
    // not root: the default buffer
  }
};

/** A UDP socket bound to address:port inside netns. */
export const udpSocketIn = (netns: NetnsHandle, address: string, port: number, freebind = false): UdpSocket => {
  const fd = boundFd(netns, SOCK_DGRAM, address, port, freebind);
  const socket = createSocket(familyOf(address) === 4 ? 'udp4' : 'udp6');
  socket.bind({ fd });
  return socket;
};

/** A TCP server listening on address:port inside netns; connections go to onConnection. */
export const tcpServerIn = (netns: NetnsHandle, address: string, port: number, onConnection: (c: TcpSocket) => void, freebind = false): Server => {
  const fd = boundFd(netns, SOCK_STREAM, address, port, freebind);
  const server = createServer(onConnection);
  server.listen({ fd });
  return server;
};

/** A TCP connection from inside netns to address:port. */
export const tcpConnectIn = (netns: NetnsHandle, address: string, port: number): TcpSocket => {
  const family = familyOf(address);
  const fd = withNetns(netns.fd, () => socketFd(AF[family], SOCK_STREAM, `${address}:${port} in ${netns.path}`));
  const socket = new TcpSocket({ fd, readable: true, writable: true });
  return socket.connect({ port, host: address });
};

/** The wildcard address of a family, for a client socket's ephemeral bind. */
export const anyAddress = (family: IpFamily): string => formatAddress(family, 0n);
