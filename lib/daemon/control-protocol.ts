/**
 * The daemon's control socket protocol: one JSON request line, one JSON reply line. Pure, so
 * whatever arrives (garbage, a huge line, half a line) is answered with an error and never
 * reaches the daemon's logic.
 */

export const MAX_REQUEST_BYTES = 4_096;

export type ControlRequest = { readonly op: 'status' };

export type Parsed = { readonly ok: true; readonly request: ControlRequest } | { readonly ok: false; readonly error: string };

const OPS = ['status'] as const;

export const parseControlRequest = (raw: Buffer): Parsed => {
  if (raw.length > MAX_REQUEST_BYTES) return { ok: false, error: `request too long (${raw.length} bytes; at most ${MAX_REQUEST_BYTES})` };
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, error: 'request is not JSON; send {"op":"status"}' };
  }
  const op = typeof value === 'object' && value !== null ? (value as { op?: unknown }).op : undefined;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    return { ok: false, error: `unknown op ${JSON.stringify(op)}; known: ${OPS.join(', ')}` };
  }
  return { ok: true, request: { op: 'status' } };
};

export const encodeReply = (value: unknown): string => `${JSON.stringify(value)}\n`;
