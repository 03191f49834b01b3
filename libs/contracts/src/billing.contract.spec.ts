import { AdminCreditBody, PlanCreateRequest, spendWindow, TopupBody } from './billing.contract';

describe('spendWindow', () => {
  it('is the UTC day, the ISO week from Monday, and the calendar month', () => {
    const t = new Date('2025-03-09T23:59:59.999Z'); // a Sunday
    expect(spendWindow('d', t)).toEqual({
      start: new Date('2025-03-09T00:00:00Z'),
      end: new Date('2025-03-10T00:00:00Z'),
    });
    expect(spendWindow('w', t)).toEqual({
      start: new Date('2025-03-03T00:00:00Z'),
      end: new Date('2025-03-10T00:00:00Z'),
    });
    expect(spendWindow('w', new Date('2025-03-10T00:00:00Z')).start).toEqual(
      new Date('2025-03-10T00:00:00Z'),
    );
    expect(spendWindow('m', new Date('2024-12-31T12:00:00Z'))).toEqual({
      start: new Date('2024-12-01T00:00:00Z'),
      end: new Date('2025-01-01T00:00:00Z'),
    });
  });
});

describe('billing request schemas', () => {
  it('takes USD amounts to the micro-dollar and top-ups to the cent', () => {
    expect(AdminCreditBody.safeParse({ amountUsd: 0.000001 }).success).toBe(true);
    expect(AdminCreditBody.safeParse({ amountUsd: 0.0000001 }).success).toBe(false);
    expect(AdminCreditBody.safeParse({ amountUsd: 0 }).success).toBe(false);
    expect(AdminCreditBody.safeParse({ amountUsd: -12.5 }).success).toBe(true);
    expect(TopupBody.safeParse({ amountUsd: 10.99 }).success).toBe(true);
    expect(TopupBody.safeParse({ amountUsd: 10.999 }).success).toBe(false);
    expect(TopupBody.safeParse({ amountUsd: 0.1 + 0.2 }).success).toBe(true);
  });

  it('refuses a multiplier with more than 4 decimals and negative caps', () => {
    expect(PlanCreateRequest.safeParse({ name: 'p', kind: 'payg', priceMultiplier: 1.2345 }).success).toBe(
      true,
    );
    expect(PlanCreateRequest.safeParse({ name: 'p', kind: 'payg', priceMultiplier: 1.23456 }).success).toBe(
      false,
    );
    expect(PlanCreateRequest.safeParse({ name: 'p', kind: 'payg', dailyCapUsd: -1 }).success).toBe(false);
  });
});
