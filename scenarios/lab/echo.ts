/**
 * The scenarios' echo server and client, as node one-liners run inside lab namespaces (node is on
 * every lab host: tnet needs it). The server answers every TCP connection and UDP datagram with
 * "NAME CLIENT": which container served it and the source address it saw, so a check can tell
 * both where a published port led and whether the client was masqueraded on the way.
 */

/** argv: NAME PORT tcp|udp. One line: a single `node -e` argument on every backend. */
const SERVER = [
  "const [name, port, proto] = [process.argv[1], Number(process.argv[2]), process.argv[3]];",
  "const say = (a) => name + ' ' + a.replace(/^::ffff:/, '') + '\\n';",
  "if (proto === 'udp') { const u = require('dgram').createSocket('udp4'); u.on('message', (m, r) => u.send(say(r.address), r.port, r.address)); u.bind(port, '0.0.0.0'); }",
  "else require('net').createServer((c) => { c.on('error', () => {}); c.end(say(c.remoteAddress)); }).listen(port, '0.0.0.0');",
].join(' ');

/** argv: tcp|udp ADDRESS PORT; prints the answer and exits 0, or exits non-zero after 1.5 s without one. */
const CLIENT = [
  "const [proto, host, port] = [process.argv[1], process.argv[2], Number(process.argv[3])];",
  "setTimeout(() => process.exit(2), 1500).unref();",
  "const done = (d) => { process.stdout.write(String(d).trim()); process.exit(String(d).trim() === '' ? 3 : 0); };",
  "if (proto === 'udp') { const u = require('dgram').createSocket('udp4'); u.on('message', done); u.send('who', port, host); }",
  "else { const c = require('net').connect(port, host); let out = ''; c.on('data', (d) => (out += d)); c.on('end', () => done(out)); c.on('error', (e) => { console.error(e.message); process.exit(1); }); }",
].join(' ');

export const echoServerArgv = (name: string, port: number, proto: 'tcp' | 'udp'): string[] => ['node', '-e', SERVER, name, String(port), proto];
export const echoClientArgv = (proto: 'tcp' | 'udp', address: string, port: number): string[] => ['node', '-e', CLIENT, proto, address, String(port)];

/** Whether an answer says TEXT: whole words, so "says a" does not match the "a" inside an address. */
export const answerSays = (answer: string, text: string): boolean => ` ${answer.trim().split(/\s+/).join(' ')} `.includes(` ${text.trim().split(/\s+/).join(' ')} `);
