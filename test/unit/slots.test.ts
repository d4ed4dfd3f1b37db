/** CPU slots for heavy stages: at most `size` holders, first come first served, a cancelled waiter leaves the queue. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultStageSlots, StageSlots } from '../../src/runners/slots.js';

describe('stage slots', () => {
  it('one per core by default, at least one', () => {
    assert.deepEqual([0, 1, 2, 16].map(defaultStageSlots), [1, 1, 2, 16]);
    assert.throws(() => new StageSlots(0), /whole number ≥ 1, not 0/);
  });

  it('hands slots out in arrival order and never to more than its size', async () => {
    const slots = new StageSlots(2);
    const order: string[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    const c = slots.acquire().then((release) => (order.push('c'), release));
    const d = slots.acquire().then((release) => (order.push('d'), release));
    await Promise.resolve();
    assert.deepEqual([slots.inUse, slots.queued, order], [2, 2, []]);
    a();
    a(); // a second call changes nothing
    const releaseC = await c;
    assert.deepEqual([slots.inUse, slots.queued, order], [2, 1, ['c']]);
    b();
    const releaseD = await d;
    assert.deepEqual(order, ['c', 'd']);
    releaseC();
    releaseD();
    assert.deepEqual([slots.inUse, slots.queued], [0, 0]);
  });

  it('a waiter whose signal aborts leaves the queue and takes no slot', async () => {
    const slots = new StageSlots(1);
    const held = await slots.acquire();
    const stop = new AbortController();
    const waiting = slots.acquire(stop.signal);
    stop.abort(new Error('stage cancelled'));
    await assert.rejects(waiting, /stage cancelled/);
    assert.equal(slots.queued, 0);
    held();
    assert.equal(slots.inUse, 0, 'the released slot went to nobody');
    await assert.rejects(slots.acquire(AbortSignal.abort(new Error('already'))), /already/);
  });
});
