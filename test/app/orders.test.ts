import { describe, expect, it } from 'vitest';
import { OrderBook } from '../../app/orders.ts';
import { VALID_ORDER } from './request-builders.ts';

describe('OrderBook (in-memory, per instance)', () => {
  it('starts with the demo orders, newest first', () => {
    const ids = new OrderBook().list({ limit: 20 }).map((o) => o.id);
    expect(ids).toEqual(['ord_demo3', 'ord_demo2', 'ord_demo1']);
  });

  it('totals an order from its items and stamps who created it and when', () => {
    const book = new OrderBook({ now: () => new Date('2026-01-01T00:00:00Z'), newId: () => 'ord_fixed' });
    const order = book.create({ ...VALID_ORDER, items: [...VALID_ORDER.items] }, 'smoke-tests');
    expect(order).toMatchObject({ id: 'ord_fixed', totalCents: 2500, createdAt: '2026-01-01T00:00:00.000Z' });
    expect(book.get('ord_fixed')).toEqual(order);
  });

  it('forgets the oldest orders beyond maxOrders so memory stays bounded', () => {
    const fresh = ['ord_n1', 'ord_n2', 'ord_n3'];
    const book = new OrderBook({ maxOrders: 4, newId: () => fresh.shift() ?? 'ord_none' });
    for (let i = 0; i < 3; i += 1) book.create({ ...VALID_ORDER, items: [...VALID_ORDER.items] }, 'c');
    const ids = book.list({ limit: 100 }).map((o) => o.id);
    expect(ids).toEqual(['ord_n3', 'ord_n2', 'ord_n1', 'ord_demo3']);
  });
});
