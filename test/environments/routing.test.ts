/**
 * Canary routing at the environment's proxy, with real HTTP: sticky per customer (10,000 customers,
 * each always on one release at a weight, nobody moving back as the weight rises), weights honoured,
 * a weight change effective at the next request, and every answer counted for the release that gave it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../src/environments/local/net.js';
import { startProxy } from '../../src/environments/local/proxy.js';
import {
  BUCKETS,
  bucketOf,
  customerKeyOf,
  route,
  type Routing,
} from '../../src/environments/local/routing.js';
import { TrafficRecorder } from '../../src/environments/local/traffic.js';

const stable = { releaseId: 'app-1111111-aaaaaaaa', port: 0 };
const canary = { releaseId: 'app-2222222-bbbbbbbb', port: 0 };

describe('canary routing', () => {
  it('sticky: 10,000 customers each stay on one release at a weight, and a rising weight only moves them to the canary', () => {
    const customers = Array.from({ length: 10_000 }, (_, i) => `h:customer-${i}`);
    let before = new Set<string>();
    for (const weight of [5, 25, 50, 100]) {
      const routing: Routing = { stable, canary: { target: canary, weight } };
      const onCanary = new Set(customers.filter((c) => route(routing, c) === canary));
      for (const c of customers.slice(0, 500)) {
        const first = route(routing, c);
        for (let i = 0; i < 5; i++)
          assert.equal(route(routing, c), first, `${c} straddled two releases at ${weight} %`);
      }
      const share = (onCanary.size / customers.length) * 100;
      assert.ok(Math.abs(share - weight) <= 2, `${share.toFixed(1)} % on the canary at weight ${weight}`);
      for (const c of before)
        assert.ok(onCanary.has(c), `${c} moved back to the stable release at ${weight} %`);
      before = onCanary;
    }
    assert.equal(route({ stable, canary: { target: canary, weight: 0 } }, 'h:x'), stable);
    assert.equal(route({ stable: null }, 'h:x'), null, 'nothing active: the proxy answers 503');
  });

  it('the customer is the sticky header, else the sticky cookie, else the client address', () => {
    const sticky = { header: 'X-Customer-Id', cookie: 'cid' };
    assert.equal(
      customerKeyOf({ 'x-customer-id': 'cus_1', cookie: 'cid=cus_2' }, '127.0.0.1', sticky),
      'h:cus_1',
    );
    assert.equal(customerKeyOf({ cookie: 'a=1; cid=cus_2' }, '127.0.0.1', sticky), 'c:cus_2');
    assert.equal(customerKeyOf({}, '127.0.0.7', sticky), 'a:127.0.0.7');
    assert.ok(bucketOf('h:cus_1', 'one') >= 0 && bucketOf('h:cus_1', 'one') < BUCKETS);
    assert.notEqual(
      Array.from({ length: 50 }, (_, i) => bucketOf(`h:${i}`, 'one')).join(),
      Array.from({ length: 50 }, (_, i) => bucketOf(`h:${i}`, 'two')).join(),
      'another canary gets another cohort',
    );
  });

  describe('through the proxy', () => {
    const servers: Server[] = [];
    let proxy: Server;
    let port: number;
    const traffic = new TrafficRecorder();
    const routing: Routing = { stable, sticky: { header: 'x-customer-id' } };

    const serve = async (name: string): Promise<number> => {
      const server = createServer((req, res) => {
        res.statusCode = req.url === '/fail' ? 500 : 200;
        res.end(name);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      return (server.address() as AddressInfo).port;
    };

    before(async () => {
      stable.port = await serve('stable');
      canary.port = await serve('canary');
      port = await freePort();
      proxy = await startProxy({ environment: 'production', port, routing: () => routing, traffic });
    });
    after(() => {
      proxy.closeAllConnections();
      proxy.close();
      for (const server of servers) server.close();
    });

    const ask = async (customer: string, path = '/'): Promise<string> =>
      (await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-customer-id': customer } })).text();

    it('splits by weight per customer, takes a new weight at the next request, and counts per release', async () => {
      const customers = Array.from({ length: 200 }, (_, i) => `cus_${i}`);
      assert.deepEqual(new Set(await Promise.all(customers.map((c) => ask(c)))), new Set(['stable']));

      routing.canary = { target: canary, weight: 25 };
      const seen = new Map<string, Set<string>>();
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(customers.map((c) => ask(c)));
        answers.forEach((answer, i) =>
          (seen.get(customers[i]!) ?? seen.set(customers[i]!, new Set()).get(customers[i]!)!).add(answer),
        );
      }
      assert.ok(
        [...seen.values()].every((s) => s.size === 1),
        'no customer saw both releases',
      );
      const onCanary = [...seen.values()].filter((s) => s.has('canary')).length;
      assert.ok(onCanary > 20 && onCanary < 80, `${onCanary} of 200 customers on the canary at 25 %`);
      const canaryCustomer = customers.find((c) => seen.get(c)!.has('canary'))!;
      assert.equal(await ask(canaryCustomer, '/fail'), 'canary');

      routing.canary = { target: canary, weight: 100 };
      assert.equal(
        await ask(customers.find((c) => seen.get(c)!.has('stable'))!),
        'canary',
        'the next request takes the new weight',
      );

      const counters = traffic.counters();
      const total = 200 + 600 + 1 + 1;
      assert.equal(counters[stable.releaseId]!.requests + counters[canary.releaseId]!.requests, total);
      assert.equal(counters[canary.releaseId]!.requests, onCanary * 3 + 2);
      assert.equal(counters[canary.releaseId]!.errors, 1, 'the 500 counted for the canary');
      assert.equal(counters[stable.releaseId]!.errors, 0);
      for (const c of Object.values(counters)) {
        assert.equal(
          c.latency.counts.reduce((a, b) => a + b, 0),
          c.requests,
          'the histogram holds every request',
        );
        assert.equal(c.latency.counts.length, c.latency.boundsMs.length + 1);
      }
    });
  });
});
