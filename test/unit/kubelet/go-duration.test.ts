import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from '../../../src/kubelet/go-duration.ts';

describe('formatGoDuration (Go Duration.String)', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [0.000001, '1ns'],
    [0.0005, '500ns'],
    [0.001, '1µs'],
    [0.0015, '1.5µs'],
    [0.999999, '999.999µs'],
    [1, '1ms'],
    [1.5, '1.5ms'],
    [300, '300ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [61_000, '1m1s'],
    [300_000, '5m0s'],
    [2_700_000, '45m0s'],
    [3_599_999, '59m59.999s'],
    [3_600_000, '1h0m0s'],
    [5_430_000, '1h30m30s'],
    [86_400_000, '24h0m0s'],
    [90_061_001, '25h1m1.001s'],
    [9_223_372_036_854, '2562047h47m16.854s'],
  ];
  for (const [ms, want] of cases) {
    it(`${ms} ms -> ${want}`, () => assert.equal(formatGoDuration(ms), want));
  }

  const bad = [-1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, 9_223_372_036_855];
  for (const ms of bad) {
    it(`rejects ${ms}`, () => assert.throws(() => formatGoDuration(ms), RangeError));
  }

  it('round-trips through parseGoDuration', () => {
    for (const [ms] of cases) assert.equal(parseGoDuration(formatGoDuration(ms)), ms);
  });
});

describe('parseGoDuration (Go time.ParseDuration)', () => {
  // Mostly Go's own time_test.go parseDurationTests, converted to ms.
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['-0', 0],
    ['+0', 0],
    ['0s', 0],
    ['-0s', 0],
    ['5s', 5000],
    ['30s', 30_000],
    ['1478s', 1_478_000],
    ['-5s', -5000],
    ['+5s', 5000],
    ['5.0s', 5000],
    ['5.6s', 5600],
    ['5.s', 5000],
    ['.5s', 500],
    ['1.0s', 1000],
    ['1.00s', 1000],
    ['1.004s', 1004],
    ['1.0040s', 1004],
    ['100.00100s', 100_001],
    ['10ns', 0.00001],
    ['11us', 0.011],
    ['12\u00b5s', 0.012],
    ['12\u03bcs', 0.012],
    ['13ms', 13],
    ['15m', 900_000],
    ['16h', 57_600_000],
    ['1m', 60_000],
    ['1m0s', 60_000],
    ['5m0s', 300_000],
    ['300ms', 300],
    ['3h30m', 12_600_000],
    ['1h30m', 5_400_000],
    ['10.5s4m', 250_500],
    ['-2m3.4s', -123_400],
    ['1h2m3s4ms5us6ns', 3_723_004.005006],
    ['39h9m14.425s', 140_954_425],
    ['52763797000ns', 52_763.797],
    ['0.3333333333333333333h', 1_200_000],
    ['24h0m0s', 86_400_000],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} -> ${want} ms`, () => {
      const got = parseGoDuration(input);
      assert.equal(got, want);
      assert.ok(!Object.is(got, -0), 'never -0');
    });
  }

  const bad = [
    '',
    '1',
    '3',
    '-',
    '+',
    's',
    '.',
    '-.',
    '.s',
    '+.s',
    '1d',
    'abc',
    '1h-2m',
    '5 s',
    ' 5s',
    '5s ',
    '5S',
    '1e3s',
    '0.0.0s',
    '1..5s',
    '\u0085\u0085',
    '9223372036854775808ns',
    '9223372036854775810ns',
    '-9223372036854775809ns',
    '3000000h',
    '9223372036s854775808ns',
  ];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseGoDuration(input),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.ok(err.message.includes(JSON.stringify(input)), `message quotes input: ${err.message}`);
          assert.ok(!err.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }

  it('accepts the extreme values Go accepts', () => {
    assert.equal(parseGoDuration('-9223372036854775808ns'), -9_223_372_036_854.775808);
    assert.equal(parseGoDuration('9223372036854775807ns'), 9_223_372_036_854.775807);
  });

  it('truncates a long input in the message', () => {
    const long = `${'9'.repeat(200)}x`;
    assert.throws(
      () => parseGoDuration(long),
      (err: unknown) => err instanceof Error && err.message.length < 120 && err.message.includes('…'),
    );
  });
});
