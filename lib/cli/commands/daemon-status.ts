/** `tnet daemon status` as text: what the control socket answered, a line per fact. Pure. */

type Loose = Record<string, unknown>;
const obj = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const describeRole = (name: string, s: Loose): string => {
  const details = Object.entries(s)
    .filter(([, v]) => typeof v !== 'object')
    .map(([k, v]) => `${k} ${text(v)}`);
  return details.length === 0 ? name : `${name} (${details.join(', ')})`;
};

export const formatDaemonStatus = (status: Loose): string => {
  const repair = obj(status['repair']);
  const store = obj(repair['store']);
  const roles = obj(status['roles']);
  const lines = [
    `tnet daemon pid ${text(status['pid'])} since ${text(status['since'])}, state dir ${text(status['stateDir'])}, store ${text(status['store'])}`,
    `roles: ${Object.entries(roles).map(([n, s]) => describeRole(n, obj(s))).join('; ') || 'none'}`,
    ...Object.entries(obj(status['off'])).map(([n, why]) => `off: ${n}: ${text(why)}`),
  ];
  if (Object.keys(repair).length > 0) {
    lines.push(store['reachable'] === false ? `store: UNREACHABLE since ${text(store['since'])} (${text(store['error'])}); repairing from the records last read` : 'store: reachable');
    lines.push(`passes: ${text(repair['passes'])}${repair['lastPass'] === undefined ? '' : `, last at ${text(repair['lastPass'])}`}${repair['pending'] === undefined ? '' : `; pending: ${text(repair['pending'])}`}`);
    for (const w of list(repair['waiting']).map(obj)) {
      lines.push(`waiting: ${text(w['key'])} failed ${text(w['failures'])} time(s), next try at ${new Date(Number(w['until'])).toISOString()}: ${text(w['lastError'])}`);
    }
    const recent = list(repair['recent']).map(obj);
    if (recent.length > 0) lines.push('recent repairs:');
    for (const r of recent) {
      lines.push(`  ${text(r['at'])} ${text(r['trigger'])} (${text(r['scope'])}, ${text(r['ms'])} ms)${r['fromKnownRecords'] === true ? ' [from the records last read]' : ''}`);
      for (const a of list(r['actions'])) lines.push(`    ${text(a)}`);
      for (const n of list(r['notes'])) lines.push(`    note: ${text(n)}`);
    }
  }
  for (const g of list(obj(roles['repair'])['goneEndpoints'])) lines.push(`gone: ${text(g)}`);
  return lines.join('\n');
};
