/** The agent's answers to client messages, on a stand-in API: redirects, status and ping payloads. */
import { describe, expect, it } from 'vitest';
import { ClientServer } from '../../src/agent/clientserver.js';
import type { LocalApi, StatusView } from '../../src/agent/localapi.js';
import type { ContactView } from '../../src/core/api.js';
import type { Driver } from '../../src/net/driver.js';
import { ClientCode, ClientMessageType, ClientOp, decode, encode, type ClientReply, type ClientRequest } from '../../src/wire/index.js';

const REQ = ClientMessageType.Request;
const status: StatusView = {
  address: '127.0.0.1:7000', cluster: 'c', groups: 4, group: 1, incarnation: 2, heartbeat: 3, uptimeMs: 4, membersAlive: 5,
  membersSuspect: 0, contacts: 1, groupsWithoutContact: 2, tuples: 6, published: 7, joined: true, synced: true, ready: false,
  version: 'v'.repeat(70),
};
const contact: ContactView = { group: 3, addr: '127.0.0.1:7003', incarnation: 1, rttMs: null, ageMs: 1, misses: 0 };

/** The replies the server sends, each through encode and decode as on the wire. */
function serve(req: ClientRequest): ClientReply {
  const sent: ClientReply[] = [];
  const api = { contacts: () => [contact], members: () => [], status: () => status } as unknown as LocalApi;
  const driver = { sendClientReply: (_: string, r: ClientReply) => sent.push(r) } as unknown as Driver;
  new ClientServer(api, driver, 4, 1).handle(req, '127.0.0.1:9');
  expect(sent.length).toBe(1);
  const d = decode(encode(sent[0]!));
  if (!d.ok) throw new Error(d.detail);
  return d.msg as ClientReply;
}

describe('ClientServer', () => {
  it('members of another group: a redirect naming a contact in it', () => {
    expect(serve({ type: REQ, id: 1, op: ClientOp.Members, group: 3, chunk: 0 })).toMatchObject({ code: ClientCode.Redirect, payload: { member: contact.addr } });
  });
  it('members of a group it knows no member of: unavailable, said in words', () => {
    const r = serve({ type: REQ, id: 1, op: ClientOp.Members, group: 2, chunk: 0 });
    expect(r.code).toBe(ClientCode.Unavailable);
    expect(r.payload).toMatch(/knows no member of group 2/);
  });
  it('status is the StatusView without ready, the version cut to 64 units; ping its head', () => {
    const { ready: _, ...rest } = status;
    expect(serve({ type: REQ, id: 2, op: ClientOp.Status }).payload).toStrictEqual({ ...rest, version: 'v'.repeat(64) });
    expect(serve({ type: REQ, id: 3, op: ClientOp.Ping }).payload).toStrictEqual({ address: status.address, cluster: 'c', groups: 4, group: 1, incarnation: 2 });
  });
});
