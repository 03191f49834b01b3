import { splitWindow } from './time-windows';

const at = (iso: string) => new Date(iso);
const show = (segs: ReturnType<typeof splitWindow>) =>
  segs.map((s) => `${s.source} ${s.from.toISOString()} ${s.to.toISOString()}`);

describe('splitWindow', () => {
  it('reads whole days from the daily rollup, whole hours from the hourly one, and only partial hours raw', () => {
    expect(show(splitWindow(at('2025-01-01T10:30:00Z'), at('2025-01-04T02:15:00Z'), true))).toEqual([
      'raw 2025-01-01T10:30:00.000Z 2025-01-01T11:00:00.000Z',
      'hourly 2025-01-01T11:00:00.000Z 2025-01-02T00:00:00.000Z',
      'daily 2025-01-02T00:00:00.000Z 2025-01-04T00:00:00.000Z',
      'hourly 2025-01-04T00:00:00.000Z 2025-01-04T02:00:00.000Z',
      'raw 2025-01-04T02:00:00.000Z 2025-01-04T02:15:00.000Z',
    ]);
  });

  it('uses only the daily rollup for day-aligned windows', () => {
    expect(show(splitWindow(at('2025-01-01T00:00:00Z'), at('2025-01-31T00:00:00Z'), true))).toEqual([
      'daily 2025-01-01T00:00:00.000Z 2025-01-31T00:00:00.000Z',
    ]);
  });

  it('never uses the daily rollup for hourly groups', () => {
    expect(show(splitWindow(at('2025-01-01T00:00:00Z'), at('2025-01-02T00:00:00Z'), false))).toEqual([
      'hourly 2025-01-01T00:00:00.000Z 2025-01-02T00:00:00.000Z',
    ]);
  });

  it('reads a window inside one hour from raw rows only, and an empty window not at all', () => {
    expect(show(splitWindow(at('2025-01-01T10:05:00Z'), at('2025-01-01T10:55:00Z'), true))).toEqual([
      'raw 2025-01-01T10:05:00.000Z 2025-01-01T10:55:00.000Z',
    ]);
    expect(splitWindow(at('2025-01-01T10:00:00Z'), at('2025-01-01T10:00:00Z'), true)).toEqual([]);
  });

  it('covers the window exactly, without gaps or overlaps', () => {
    const from = at('2024-12-30T23:59:59.123Z');
    const to = at('2025-02-01T00:00:00.001Z');
    const segs = splitWindow(from, to, true);
    expect(segs[0].from).toEqual(from);
    expect(segs[segs.length - 1].to).toEqual(to);
    for (let i = 1; i < segs.length; i++) expect(segs[i].from).toEqual(segs[i - 1].to);
  });
});
