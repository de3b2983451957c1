import { randomUUID } from 'node:crypto';
import * as z from 'zod';

/**
 * The demo domain: orders. Stateless by design: each Lambda instance keeps its own bounded in-memory book, seeded with
 * the same demo orders, so a created order is visible only to later requests that reach the same instance.
 */
export const CURRENCIES = ['EUR', 'GBP', 'USD'] as const;
export const ORDER_STATUSES = ['received', 'packed', 'shipped'] as const;

export const CreateOrderSchema = z.strictObject({
  customerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -, 1 to 64 characters'),
  currency: z.enum(CURRENCIES),
  items: z
    .array(
      z.strictObject({
        sku: z.string().regex(/^[A-Z0-9-]{3,32}$/, 'upper-case letters, digits or -, 3 to 32 characters'),
        quantity: z.int().min(1).max(1000),
        unitPriceCents: z.int().min(0).max(10_000_000),
      }),
    )
    .min(1)
    .max(50),
  note: z.string().max(500).optional(),
});

export type CreateOrder = z.infer<typeof CreateOrderSchema>;

export const ListOrdersQuerySchema = z.object({
  status: z.enum(ORDER_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const ORDER_ID_PATTERN = /^ord_[A-Za-z0-9]{1,40}$/;

export interface Order extends CreateOrder {
  readonly id: string;
  readonly status: (typeof ORDER_STATUSES)[number];
  readonly totalCents: number;
  readonly createdAt: string;
  readonly createdBy: string;
}

const DEMO_ORDERS: readonly Order[] = [
  {
    id: 'ord_demo1',
    customerId: 'cust-ada',
    currency: 'EUR',
    items: [{ sku: 'RAIL-CLAMP-12', quantity: 4, unitPriceCents: 1250 }],
    totalCents: 5000,
    status: 'shipped',
    createdAt: '2025-01-06T09:00:00.000Z',
    createdBy: 'demo',
  },
  {
    id: 'ord_demo2',
    customerId: 'cust-grace',
    currency: 'USD',
    items: [
      { sku: 'SWITCH-LEVER', quantity: 1, unitPriceCents: 8900 },
      { sku: 'SIGNAL-LAMP', quantity: 2, unitPriceCents: 2150 },
    ],
    totalCents: 13200,
    status: 'packed',
    createdAt: '2025-01-07T14:30:00.000Z',
    createdBy: 'demo',
  },
  {
    id: 'ord_demo3',
    customerId: 'cust-linus',
    currency: 'GBP',
    items: [{ sku: 'BUFFER-STOP', quantity: 1, unitPriceCents: 45000 }],
    totalCents: 45000,
    status: 'received',
    createdAt: '2025-01-08T08:15:00.000Z',
    createdBy: 'demo',
  },
];

export interface OrderBookOptions {
  /** Oldest orders are dropped beyond this, so a load test cannot grow an instance without bound. @default 1000 */
  readonly maxOrders?: number;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

export class OrderBook {
  readonly #orders = new Map<string, Order>();
  readonly #maxOrders: number;
  readonly #now: () => Date;
  readonly #newId: () => string;

  constructor(options: OrderBookOptions = {}) {
    this.#maxOrders = options.maxOrders ?? 1000;
    this.#now = options.now ?? (() => new Date());
    this.#newId = options.newId ?? (() => `ord_${randomUUID().replaceAll('-', '')}`);
    for (const order of DEMO_ORDERS) this.#orders.set(order.id, order);
  }

  list(query: z.infer<typeof ListOrdersQuerySchema>): Order[] {
    return [...this.#orders.values()]
      .reverse()
      .filter((order) => !query.status || order.status === query.status)
      .slice(0, query.limit);
  }

  get(id: string): Order | undefined {
    return this.#orders.get(id);
  }

  create(input: CreateOrder, createdBy: string): Order {
    const order: Order = {
      ...input,
      id: this.#newId(),
      status: 'received',
      totalCents: input.items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
      createdAt: this.#now().toISOString(),
      createdBy,
    };
    this.#orders.set(order.id, order);
    for (const oldest of this.#orders.keys()) {
      if (this.#orders.size <= this.#maxOrders) break;
      this.#orders.delete(oldest);
    }
    return order;
  }
}
