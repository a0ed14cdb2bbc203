import { describe, expect, test } from 'vitest';
import { logLogSvg, logTicks, tickLabel } from './plot';

describe('the log-log plot of docs/benchmarks.md', () => {
  test('ticks: decades when there are three, else 1-2-5', () => {
    expect(logTicks(1e-4, 1e2)).toEqual([1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100]);
    expect(logTicks(8, 250)).toEqual([10, 20, 50, 100, 200]);
    expect(tickLabel(1e-3)).toBe('1e-3');
    expect(tickLabel(0.05)).toBe('0.05');
    expect(tickLabel(250)).toBe('250');
    expect(tickLabel(2e-4)).toBe('2e-4');
  });

  test('one path per series with its points on the log scale, a legend, labels and the target line', () => {
    const svg = logLogSvg({
      title: 't & <t>', xLabel: 'calls', yLabel: 'error',
      series: [
        { label: 'ddim', color: '#111', points: [[10, 0.1], [100, 0.01]] },
        { label: 'stsp4', color: '#222', dashed: true, points: [[10, 0.2], [100, NaN], [1000, 0.001]] },
      ],
      hline: { y: 0.005, label: 'target' },
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('t &amp; &lt;t&gt;');
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(4); // the NaN point is left out
    expect(svg).toContain('>ddim</text>');
    expect(svg).toContain('>stsp4</text>');
    expect(svg).toContain('calls (log)');
    expect(svg).toContain('error (log)');
    expect(svg).toContain('stroke-dasharray="6 3"');
    // Equal steps in log10 are equal steps on the page: ddim's two points and stsp4's first.
    const xs = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const [a, b] = xs;
    const [c, d] = xs.slice(2);
    expect(b[0] - a[0]).toBeCloseTo(d[0] - b[0], 0);
    expect(c[0]).toBeCloseTo(a[0], 5);
    expect(b[1] - a[1]).toBeGreaterThan(0);
  });

  test('a plot without points is refused', () => {
    expect(() => logLogSvg({ title: 'x', xLabel: 'x', yLabel: 'y', series: [{ label: 'a', color: '#000', points: [[1, 0]] }] })).toThrow(/no points/);
  });
});
