import { describe, expect, it } from 'vitest';
import { decodeCall, encodeReply } from '../../lib/cni/wire.js';

/** What the wrapper sends: `env -0`, one more NUL, then the config. */
const wrapperBytes = (env: readonly string[], conf: string): Buffer => Buffer.from(`${env.map((e) => `${e}\0`).join('')}\0${conf}`);

describe('the wrapper-to-server framing', () => {
  it('keeps the CNI_ and TNET_ variables and the config verbatim, dropping the rest of the environment', () => {
    const conf = '{"name":"a=b\\\\c","x":"\\u0000"}\n';
    const call = decodeCall(wrapperBytes(['PATH=/usr/bin', 'CNI_COMMAND=ADD', 'CNI_ARGS=IgnoreUnknown=1;IP=10.0.0.5', 'TNET_STORE=', 'HOME=/root'], conf));
    expect(call).toEqual({ env: { CNI_COMMAND: 'ADD', CNI_ARGS: 'IgnoreUnknown=1;IP=10.0.0.5', TNET_STORE: '' }, stdin: conf });
  });

  it('takes an empty environment and an empty config', () => {
    expect(decodeCall(wrapperBytes([], ''))).toEqual({ env: {}, stdin: '' });
  });

  it('reports a request cut off before the environment ended', () => {
    expect(decodeCall(Buffer.from('CNI_COMMAND=ADD\0CNI_NETNS=/run/ne'))).toBeUndefined();
    expect(decodeCall(Buffer.alloc(0))).toBeUndefined();
  });

  it('replies with the exit code on the first line, then stdout', () => {
    expect(encodeReply({ exitCode: 7, stdout: '{"code":7}' })).toBe('7\n{"code":7}');
    expect(encodeReply({ exitCode: 0, stdout: '' })).toBe('0\n');
  });
});
