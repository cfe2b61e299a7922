import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { STREAMS } from '@warden/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsConnectOptionsFor } from './nats.js';
import { startWardenNatsCluster, type WardenNatsCluster } from './nats-cluster.js';

// The loopback cluster helper itself: three nodes, streams with three replicas, warden's users,
// and a node that dies and comes back without the stream losing what it acknowledged.
let cluster: WardenNatsCluster;

beforeAll(async () => {
  cluster = await startWardenNatsCluster();
}, 60_000);

afterAll(() => cluster?.stop());

describe('startWardenNatsCluster', () => {
  it('provisions every warden stream with three replicas spread over the three nodes', async () => {
    const nc = await connect(natsConnectOptionsFor(cluster, 'ops'));
    try {
      const jsm = await jetstreamManager(nc);
      for (const { name } of Object.values(STREAMS)) {
        const info = await jsm.streams.info(name);
        expect(info.config.num_replicas).toBe(3);
        const members = [info.cluster!.leader, ...info.cluster!.replicas!.map((r) => r.name)];
        expect(members.sort()).toEqual(['n1', 'n2', 'n3']);
      }
    } finally {
      await nc.close();
    }
  });

  it("enforces warden's users: a service publishes its own events and nothing else", async () => {
    const nc = await connect(natsConnectOptionsFor(cluster, 'user-service'));
    try {
      const js = jetstream(nc);
      const ack = await js.publish('warden.user.v1.cluster_probe', new Uint8Array([1]));
      expect(ack.stream).toBe('WARDEN_USER');
      await expect(
        js.publish('warden.authz.v1.cluster_probe', new Uint8Array([1]), { timeout: 1000 }),
      ).rejects.toThrow();
    } finally {
      await nc.close();
    }
  });

  it('keeps acknowledged messages when the stream leader is SIGKILLed, and the node rejoins', async () => {
    const nc = await connect({ ...natsConnectOptionsFor(cluster, 'user-service'), timeout: 5000 });
    const ops = await connect(natsConnectOptionsFor(cluster, 'ops'));
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(ops);
      const before = (await jsm.streams.info('WARDEN_USER')).state.messages;
      const leader = await cluster.streamLeader('WARDEN_USER');
      const pid = cluster.nodes[leader]!.pid();
      await cluster.nodes[leader]!.kill();
      expect(cluster.nodes[leader]!.pid()).toBeUndefined();
      // Two of three nodes still make a quorum: publishes are acknowledged once a leader is elected.
      // The election and the client's reconnect take a few seconds on a loaded machine (a CI run
      // needed more than 6 s): retry for up to 40 s, where the answer is "no responders" meanwhile.
      const deadline = Date.now() + 40_000;
      let acknowledged = 0;
      for (let i = 0; i < 20; i++) {
        for (;;) {
          try {
            await js.publish('warden.user.v1.cluster_probe', new Uint8Array([i]), {
              msgID: `cluster-probe-${pid}-${i}`,
              timeout: 2000,
            });
            acknowledged++;
            break;
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      }
      expect(acknowledged).toBe(20);
      await cluster.nodes[leader]!.restart();
      expect(cluster.nodes[leader]!.pid()).not.toBe(pid);
      const info = await jsm.streams.info('WARDEN_USER');
      expect(info.state.messages).toBe(before + 20);
      expect(info.cluster!.replicas!.every((r) => r.current)).toBe(true);
    } finally {
      await nc.close();
      await ops.close();
    }
  }, 90_000);
});
