import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { IntervalSet, type Range } from "../../harness/ledger/interval-set.ts";

// A naive reference: a Set<number> over a small domain, so that overlaps and adjacency are common.
const DOMAIN = 120;
const rangeArb = fc
  .tuple(fc.nat(DOMAIN), fc.nat(12))
  .map(([from, length]): Range => [from, from + length]);
const rangesArb = fc.array(rangeArb, { maxLength: 30 });

function reference(ranges: readonly Range[]): Set<number> {
  const elements = new Set<number>();
  for (const [from, to] of ranges) for (let n = from; n <= to; n++) elements.add(n);
  return elements;
}

function sorted(elements: Iterable<number>): number[] {
  return [...elements].sort((a, b) => a - b);
}

function elementsOf(set: IntervalSet): number[] {
  const elements: number[] = [];
  set.forEachRange((from, to) => {
    for (let n = from; n <= to; n++) elements.push(n);
  });
  return elements;
}

/** Sorted, disjoint and non-adjacent: the one representation of each set. */
function expectCanonical(set: IntervalSet): void {
  const ranges = [...set.ranges()];
  ranges.forEach(([from, to], index) => {
    expect(from).toBeLessThanOrEqual(to);
    const previous = ranges[index - 1];
    if (previous !== undefined) expect(from).toBeGreaterThan(previous[1] + 1);
  });
  expect(set.rangeCount).toBe(ranges.length);
}

function matchesReference(set: IntervalSet, expected: Set<number>): void {
  expectCanonical(set);
  expect(elementsOf(set)).toEqual(sorted(expected));
  expect(set.size).toBe(expected.size);
}

describe("IntervalSet", () => {
  it("keeps an ascending dense run as a single range", () => {
    const set = new IntervalSet();
    for (let seq = 0; seq < 10_000; seq++) set.add(seq);
    expect(set.toJSON()).toEqual([[0, 9_999]]);
    expect(set.size).toBe(10_000);
  });

  it("merges a range that bridges the gap between two others", () => {
    const set = IntervalSet.of([0, 4], [10, 14], [20, 24]);
    set.addRange(5, 9);
    expect(set.toJSON()).toEqual([
      [0, 14],
      [20, 24],
    ]);
    set.addRange(3, 30);
    expect(set.toJSON()).toEqual([[0, 30]]);
    expect(set.size).toBe(31);
  });

  it("inserts ranges that arrive out of order in their place", () => {
    const set = IntervalSet.of([50, 59], [10, 19], [30, 39], [0, 0]);
    expect(set.toJSON()).toEqual([
      [0, 0],
      [10, 19],
      [30, 39],
      [50, 59],
    ]);
    expect(set.size).toBe(31);
  });

  it("answers has, min and max", () => {
    const set = IntervalSet.of([3, 5], [9, 9]);
    expect([2, 3, 5, 6, 9, 10].map((n) => set.has(n))).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
    ]);
    expect(set.min()).toBe(3);
    expect(set.max()).toBe(9);
    expect(new IntervalSet().min()).toBeUndefined();
  });

  it("lists the first k elements across ranges", () => {
    expect(IntervalSet.of([0, 1], [5, 100]).first(4)).toEqual([0, 1, 5, 6]);
    expect(IntervalSet.of([7, 7]).first(3)).toEqual([7]);
    expect(IntervalSet.of([7, 9]).first(0)).toEqual([]);
  });

  it("holds elements up to Number.MAX_SAFE_INTEGER", () => {
    const top = Number.MAX_SAFE_INTEGER;
    const set = IntervalSet.of([top - 1, top], [0, 0]);
    expect(set.size).toBe(3);
    expect(set.has(top)).toBe(true);
  });

  it("refuses negative, fractional and reversed ranges, naming the value", () => {
    const set = new IntervalSet();
    expect(() => set.add(-1)).toThrow(/range start is -1/);
    expect(() => set.add(1.5)).toThrow(/1.5, expected a non-negative safe integer/);
    expect(() => set.addRange(5, 4)).toThrow(/\[5, 4\] ends before it starts/);
    expect(set.isEmpty()).toBe(true);
  });

  it("reads its JSON form back, in any order, and names a bad entry", () => {
    const set = IntervalSet.fromJSON([
      [10, 12],
      [0, 3],
      [4, 4],
    ]);
    expect(set.toJSON()).toEqual([
      [0, 4],
      [10, 12],
    ]);
    expect(() => IntervalSet.fromJSON([[0, 1], [3]], "acked")).toThrow(
      /acked\[1\] is \[3\], expected \[from, to\]/,
    );
    expect(() => IntervalSet.fromJSON({})).toThrow(/expected an array/);
    expect(() => IntervalSet.fromJSON([[2, 1]])).toThrow(/0 <= from <= to/);
  });

  it("prints compactly", () => {
    expect(IntervalSet.of([0, 3], [7, 7]).toString()).toBe("{0-3, 7}");
  });

  test.prop([rangesArb])(
    "holds exactly the integers of the ranges added, in any order",
    (ranges) => {
      const set = IntervalSet.of(...ranges);
      matchesReference(set, reference(ranges));
      const expected = reference(ranges);
      for (let n = 0; n <= DOMAIN + 14; n++) expect(set.has(n)).toBe(expected.has(n));
    },
  );

  test.prop([rangesArb, rangesArb])("union matches the reference", (left, right) => {
    const result = IntervalSet.of(...left).union(IntervalSet.of(...right));
    matchesReference(result, reference([...left, ...right]));
  });

  test.prop([rangesArb, rangesArb])("intersection matches the reference", (left, right) => {
    const rightElements = reference(right);
    const expected = new Set([...reference(left)].filter((n) => rightElements.has(n)));
    matchesReference(IntervalSet.of(...left).intersection(IntervalSet.of(...right)), expected);
  });

  test.prop([rangesArb, rangesArb])("difference matches the reference", (left, right) => {
    const rightElements = reference(right);
    const expected = new Set([...reference(left)].filter((n) => !rightElements.has(n)));
    matchesReference(IntervalSet.of(...left).difference(IntervalSet.of(...right)), expected);
  });

  test.prop([rangesArb, fc.nat(40)])("first(k) is the k smallest elements", (ranges, k) => {
    expect(IntervalSet.of(...ranges).first(k)).toEqual(sorted(reference(ranges)).slice(0, k));
  });

  test.prop([rangesArb, rangeArb])(
    "countWithin counts the elements inside a window",
    (ranges, [from, to]) => {
      const inside = [...reference(ranges)].filter((n) => n >= from && n <= to);
      expect(IntervalSet.of(...ranges).countWithin(from, to)).toBe(inside.length);
    },
  );

  test.prop([rangesArb])("survives a JSON round trip and a clone", (ranges) => {
    const set = IntervalSet.of(...ranges);
    const revived = IntervalSet.fromJSON(JSON.parse(JSON.stringify(set)));
    expect(revived.equals(set)).toBe(true);
    expect(set.clone().equals(set)).toBe(true);
  });

  test.prop([rangesArb, rangesArb])("equals holds exactly for equal contents", (left, right) => {
    const same = sorted(reference(left)).join() === sorted(reference(right)).join();
    expect(IntervalSet.of(...left).equals(IntervalSet.of(...right))).toBe(same);
  });
});
