import { closedWindow, exportFileName, openWindow, parseTimeBound } from './usage-query.params';

describe('usage time windows', () => {
  it('accepts ISO dates and date-times, UTC when no offset is given', () => {
    expect(parseTimeBound('2025-01-31')).toEqual({ kind: 'date', day: new Date('2025-01-31T00:00:00Z') });
    expect(parseTimeBound('2025-01-31T10:00')).toEqual({
      kind: 'instant',
      at: new Date('2025-01-31T10:00:00Z'),
    });
    expect(parseTimeBound('2025-01-31T10:00:00+02:00')).toEqual({
      kind: 'instant',
      at: new Date('2025-01-31T08:00:00Z'),
    });
  });

  it.each(['2025-02-30', '2025-13-01', 'yesterday', '2025-01-31T25:00:00Z', '1738281600'])(
    'refuses %p',
    (v) => {
      expect(parseTimeBound(v)).toBeNull();
    },
  );

  it('includes the whole `to` day for a date and treats a date-time `to` as exclusive', () => {
    expect(openWindow({ from: '2025-01-01', to: '2025-01-31' })).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
    });
    expect(openWindow({ to: '2025-01-31T12:00:00Z' })).toEqual({
      from: undefined,
      to: '2025-01-31T12:00:00.000Z',
    });
  });

  it('refuses a window that ends before it starts, naming `to`', () => {
    expect(() => openWindow({ from: '2025-02-01', to: '2025-01-01' })).toThrow(/^to: must be after from/);
  });

  it('defaults summaries and exports to the last 30 days, today included', () => {
    const now = new Date('2025-03-10T15:00:00Z');
    expect(closedWindow({}, now)).toEqual({
      from: '2025-02-09T00:00:00.000Z',
      to: '2025-03-11T00:00:00.000Z',
    });
  });

  it('names the export file after the first and last day it covers', () => {
    expect(
      exportFileName(openWindow({ from: '2025-01-01', to: '2025-01-31' }) as { from: string; to: string }),
    ).toBe('usage-2025-01-01_2025-01-31.csv');
  });
});
