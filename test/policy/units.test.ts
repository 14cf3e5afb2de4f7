import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/policy/jmespath/functions/duration.js';
import { formatQuantity, parseQuantity } from '../../src/policy/jmespath/functions/quantity.js';
import { parseGoTime, formatRFC3339 } from '../../src/policy/jmespath/functions/gotime.js';
import { goNumberString } from '../../src/policy/jmespath/functions/util.js';
import { goSprint } from '../../src/policy/jmespath/functions/gojson.js';

describe('Go durations', () => {
  it.each([
    ['0', '0s'],
    ['1h', '1h0m0s'],
    ['1h30m', '1h30m0s'],
    ['1.5s', '1.5s'],
    ['1500ms', '1.5s'],
    ['100us', '100µs'],
    ['1µs', '1µs'],
    ['5ns', '5ns'],
    ['-2m3s', '-2m3s'],
    ['.5h', '30m0s'],
  ])('%s -> %s', (text, canonical) => {
    expect(formatDuration(parseDuration(text)!)).toBe(canonical);
  });
  it.each(['', '1', 'h', '1x', '1.h.', '99999999999h'])('%s is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('Kubernetes quantities', () => {
  it.each([
    ['100Mi', '100Mi'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'],
    ['0.5', '500m'],
    ['1000m', '1'],
    ['2000', '2k'],
    ['1500', '1500'],
    ['1e3', '1e3'],
    ['0', '0'],
    ['-100m', '-100m'],
    ['1n', '1n'],
  ])('%s -> %s', (text, canonical) => {
    expect(formatQuantity(parseQuantity(text)!)).toBe(canonical);
  });
  it.each(['', 'Mi', '1.2.3', '1h', '90s', '1KiB', '1e1000'])('%s is not a quantity', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('Go time layouts', () => {
  it('parses fractional seconds and zones', () => {
    expect(formatRFC3339(parseGoTime('2006-01-02T15:04:05.000Z07:00', '2021-01-01T00:00:00.123-05:00'))).toBe('2021-01-01T00:00:00-05:00');
    expect(parseGoTime('2006-01-02T15:04:05Z07:00', '2021-01-01T00:00:00.5Z').ns % 1_000_000_000n).toBe(500_000_000n);
    expect(formatRFC3339(parseGoTime('January 2, 2006', 'March 4, 2022'))).toBe('2022-03-04T00:00:00Z');
    expect(formatRFC3339(parseGoTime('2006.002', '2024.060'))).toBe('2024-02-29T00:00:00Z');
  });
  it('rejects out-of-range fields', () => {
    expect(() => parseGoTime('2006-01-02', '2023-02-29')).toThrow(/day out of range/);
    expect(() => parseGoTime('15:04', '24:00')).toThrow(/hour out of range/);
  });
});

describe('Go formatting', () => {
  it('fmt %v of float64', () => {
    expect(goNumberString(1)).toBe('1');
    expect(goNumberString(1.5)).toBe('1.5');
    expect(goNumberString(1e21)).toBe('1e+21');
    expect(goNumberString(0.00001)).toBe('1e-05');
  });
  it('fmt.Sprint of JSON values', () => {
    expect(goSprint(null)).toBe('<nil>');
    expect(goSprint('x')).toBe('x');
    expect(goSprint([1, 'a'])).toBe('[1 a]');
    expect(goSprint({ b: 1, a: true })).toBe('map[a:true b:1]');
  });
});
