import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/agent/config.js';
import { createLogger } from '../../src/agent/logger.js';
import { ClientMessageType, ClientOp, encode } from '../../src/wire/index.js';

let agent: Agent;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kelips-burst-'));
  const r = loadConfig({ argv: ['--bind', '127.0.0.1:0', '--metrics', 'off', '--data-dir', dir, '--groups', '1'], env: {}, readFile: () => '' });
  if (r.kind !== 'run') throw new Error('config');
  agent = await startAgent(r.config, createLogger('silent'));
});
afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('an agent receives a burst of 5,000 datagrams whole and answers each', async () => {
  const tx = createSocket('udp4');
  let replies = 0;
  tx.on('message', () => replies++);
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
  tx.setRecvBufferSize(8 << 20);
  try {
    const [host, port] = [agent.bound.split(':')[0]!, Number(agent.bound.split(':')[1])];
    const before = agent.driver.net.received['client-request']!;
    for (let i = 0; i < 5000; i++) tx.send(encode({ type: ClientMessageType.Request, id: i, op: ClientOp.Ping }), port, host);
    const start = Date.now();
    while ((agent.driver.net.received['client-request']! - before < 5000 || replies < 5000) && Date.now() - start < 10_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(agent.driver.net.received['client-request']! - before).toBe(5000);
    expect(replies).toBe(5000);
  } finally {
    tx.close();
  }
});
