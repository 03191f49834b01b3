import { addPeriod } from './periods';

describe('addPeriod', () => {
  it('adds a day, a week, and a calendar month clamped to the month end', () => {
    const t = new Date('2025-01-31T10:20:30.000Z');
    expect(addPeriod(t, 'day').toISOString()).toBe('2025-02-01T10:20:30.000Z');
    expect(addPeriod(t, 'week').toISOString()).toBe('2025-02-07T10:20:30.000Z');
    expect(addPeriod(t, 'month').toISOString()).toBe('2025-02-28T10:20:30.000Z');
    expect(addPeriod(new Date('2024-01-31T00:00:00Z'), 'month').toISOString()).toBe(
      '2024-02-29T00:00:00.000Z',
    );
    expect(addPeriod(new Date('2025-12-15T00:00:00Z'), 'month').toISOString()).toBe(
      '2026-01-15T00:00:00.000Z',
    );
  });
});
