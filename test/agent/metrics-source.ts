/** A MetricsSource for an agent that does nothing: one node, no members, no traffic; `overrides` replace parts. */
import type { MetricsSource } from '../../src/agent/metrics.js';

export function idleMetricsSource(overrides: Partial<MetricsSource> = {}): MetricsSource {
  return {
    info: () => ({ cluster: 'c', group: 0, address: '127.0.0.1:1', version: '0' }),
    incarnation: () => 1,
    ready: () => true,
    members: () => [],
    groups: () => 1,
    ownGroup: () => 0,
    contactsByGroup: () => new Map(),
    tuplesStored: () => 0,
    tuplesPublished: () => 0,
    coreDrops: () => ({}),
    suspectProbes: () => 0,
    net: () => ({ sent: {}, received: {}, bytesSent: 0, bytesReceived: 0, rejects: {}, encodeErrors: 0, sendErrors: 0, unexpected: 0 }),
    authority: () => ({ synced: true, recovering: false, notReadyAnswers: 0, groupResets: 0 }),
    ...overrides,
  };
}
