/** kelips-ctl fetches chunked answers chunk by chunk and re-sends unanswered requests (same id). */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { runCtl } from '../../src/cli/ctl.js';
import { MemberState } from '../../src/core/types.js';
import { ClientCode, ClientMessageType, ClientOp, decode, encode, redirectReply, type ClientRequest, type MemberRow } from '../../src/wire/index.js';

const servers: Socket[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function fakeAgent(onRequest: (req: ClientRequest, reply: (bytes: Buffer) => void) => void): Promise<string> {
  const s = createSocket('udp4');
  servers.push(s);
  s.on('message', (m, r) => {
    const d = decode(m);
    if (d.ok && d.msg.type === ClientMessageType.Request) onRequest(d.msg, (bytes) => s.send(bytes, r.port, r.address));
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return `127.0.0.1:${s.address().port}`;
}

const row = (i: number): MemberRow => ({ addr: `10.0.${i >> 8}.${i & 255}:7946`, incarnation: 1, heartbeat: i, ageMs: 5, rttMs: null, state: MemberState.Alive, group: 0 });

describe('kelips-ctl chunks and retries', () => {
  it('reassembles a members answer sent in three chunks', async () => {
    const chunks = [[row(1), row(2)], [row(3)], [row(4), row(5)]];
    const asked: number[] = [];
    const node = await fakeAgent((req, reply) => {
      if (req.op !== ClientOp.Members) return;
      asked.push(req.chunk);
      reply(encode({ type: ClientMessageType.Reply, id: req.id, op: ClientOp.Members, code: ClientCode.Ok, chunk: req.chunk, chunks: 3, payload: chunks[req.chunk]! }));
    });
    const out: string[] = [];
    const code = await runCtl(['--node', node, '--json', 'members'], {}, { out: (s) => out.push(s), err: () => {} });
    expect(code).toBe(0);
    expect(asked).toEqual([0, 1, 2]);
    expect(JSON.parse(out.join('')).members.map((m: MemberRow) => m.heartbeat)).toEqual([1, 2, 3, 4, 5]);
  });

  it('re-sends an unanswered request with the same id until it is answered', async () => {
    const ids: number[] = [];
    const node = await fakeAgent((req, reply) => {
      ids.push(req.id);
      if (ids.length < 3) return; // drop the first two
      reply(encode({ type: ClientMessageType.Reply, id: req.id, op: ClientOp.Ping, code: ClientCode.Ok, chunk: 0, chunks: 1, payload: { address: '127.0.0.1:7946', cluster: 'c', groups: 1, group: 0, incarnation: 1 } }));
    });
    const out: string[] = [];
    const code = await runCtl(['--node', node, '--json', 'ping'], {}, { out: (s) => out.push(s), err: () => {} });
    expect(code).toBe(0);
    expect(ids.length).toBe(3);
    expect(new Set(ids).size).toBe(1);
    expect(JSON.parse(out.join(''))).toMatchObject({ address: '127.0.0.1:7946', attempts: 3 });
  });

  it('maps refusals to exit codes: bad request 2, busy 3', async () => {
    let code: ClientCode = ClientCode.BadRequest;
    const node = await fakeAgent((req, reply) => reply(encode({ type: ClientMessageType.Reply, id: req.id, op: req.op, code, chunk: 0, chunks: 1, payload: 'nope' } as never)));
    const err: string[] = [];
    expect(await runCtl(['--node', node, 'status'], {}, { out: () => {}, err: (s) => err.push(s) })).toBe(2);
    expect(err.join('')).toMatch(/the agent refused: nope/);
    code = ClientCode.Busy;
    expect(await runCtl(['--node', node, 'lookup', 'x'], {}, { out: () => {}, err: () => {} })).toBe(3);
  });

  it('members --group follows the redirect to the member the agent names, and asks it for that group', async () => {
    const asked: (number | null)[] = [];
    const member = await fakeAgent((req, reply) => {
      if (req.op !== ClientOp.Members) return;
      asked.push(req.group);
      reply(encode({ type: ClientMessageType.Reply, id: req.id, op: ClientOp.Members, code: ClientCode.Ok, chunk: 0, chunks: 1, payload: [{ ...row(7), group: 4 }] }));
    });
    const agent = await fakeAgent((req, reply) => {
      if (req.op === ClientOp.Members) reply(encode(redirectReply(req, member)));
    });
    const out: string[] = [];
    const code = await runCtl(['--node', agent, '--json', 'members', '--group', '4'], {}, { out: (s) => out.push(s), err: () => {} });
    expect(code).toBe(0);
    expect(asked).toEqual([4]);
    expect(JSON.parse(out.join(''))).toMatchObject({ node: member, group: 4, members: [{ heartbeat: 7, group: 4 }] });
  });

  it('a redirect it does not follow (no group asked, or a second hop) is an unavailable answer naming the member', async () => {
    const second = await fakeAgent((req, reply) => {
      if (req.op === ClientOp.Members) reply(encode(redirectReply(req, '127.0.0.1:9')));
    });
    const agent = await fakeAgent((req, reply) => {
      if (req.op === ClientOp.Members) reply(encode(redirectReply(req, second)));
    });
    for (const [args, named] of [[[], second], [['--group', '4'], '127.0.0.1:9']] as const) {
      const err: string[] = [];
      expect(await runCtl(['--node', agent, '--timeout-ms', '2000', 'members', ...args], {}, { out: () => {}, err: (s) => err.push(s) })).toBe(3);
      expect(err.join('')).toContain(`ask ${named}, a member of it`);
    }
  });
});
