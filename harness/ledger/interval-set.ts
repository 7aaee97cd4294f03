// An exact set of non-negative integers kept as sorted, disjoint, non-adjacent inclusive ranges.
// Streams of events carry dense sequence numbers, so the sets the ledger and the workload keep
// (produced, acknowledged, delivered, declared...) are a handful of ranges each: millions of
// events cost kilobytes. Ranges live in one growable Float64Array (pairs of bounds) rather than
// in an object per range, so that adding to a set allocates nothing in the common case.

const INITIAL_CAPACITY_RANGES = 4;

export type Range = readonly [from: number, to: number];

function checkElement(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} is ${value}, expected a non-negative safe integer`);
  }
}

export class IntervalSet {
  /** bounds[2i] and bounds[2i + 1] are the first and last element of range i. */
  private bounds: Float64Array;
  private rangeTotal = 0;
  private elementTotal = 0;

  constructor(capacityRanges = INITIAL_CAPACITY_RANGES) {
    this.bounds = new Float64Array(Math.max(1, capacityRanges) * 2);
  }

  /** The set holding every integer of the given ranges, in any order, overlapping or not. */
  static of(...ranges: Range[]): IntervalSet {
    const set = new IntervalSet(ranges.length);
    for (const [from, to] of ranges) set.addRange(from, to);
    return set;
  }

  /** The set of `[from, to]` (empty when `to < from`). */
  static range(from: number, to: number): IntervalSet {
    const set = new IntervalSet(1);
    if (to >= from) set.addRange(from, to);
    return set;
  }

  /**
   * Reads the JSON form `[[from, to], ...]`. Ranges may come in any order and may overlap;
   * anything else is refused with a message naming the offending entry.
   */
  static fromJSON(value: unknown, what = "interval set"): IntervalSet {
    if (!Array.isArray(value)) {
      throw new TypeError(`${what} is ${JSON.stringify(value)}, expected an array of [from, to]`);
    }
    const set = new IntervalSet(value.length);
    value.forEach((entry: unknown, index) => {
      const valid =
        Array.isArray(entry) &&
        entry.length === 2 &&
        Number.isSafeInteger(entry[0]) &&
        Number.isSafeInteger(entry[1]) &&
        entry[0] >= 0 &&
        entry[0] <= entry[1];
      if (!valid) {
        throw new TypeError(
          `${what}[${index}] is ${JSON.stringify(entry)}, expected [from, to] with 0 <= from <= to`,
        );
      }
      set.addRange(entry[0] as number, entry[1] as number);
    });
    return set;
  }

  /** How many integers the set holds. */
  get size(): number {
    return this.elementTotal;
  }

  /** How many disjoint ranges the set is made of. */
  get rangeCount(): number {
    return this.rangeTotal;
  }

  isEmpty(): boolean {
    return this.rangeTotal === 0;
  }

  /** The smallest element, or undefined when empty. */
  min(): number | undefined {
    return this.rangeTotal === 0 ? undefined : this.bounds[0];
  }

  /** The largest element, or undefined when empty. */
  max(): number | undefined {
    return this.rangeTotal === 0 ? undefined : this.bounds[this.rangeTotal * 2 - 1];
  }

  add(value: number): void {
    this.addRange(value, value);
  }

  /** Adds every integer of `[from, to]`. Amortised O(1) when ranges arrive in ascending order. */
  addRange(from: number, to: number): void {
    checkElement(from, "range start");
    checkElement(to, "range end");
    if (to < from) throw new RangeError(`range [${from}, ${to}] ends before it starts`);
    const count = this.rangeTotal;
    if (count === 0) {
      this.insertAt(0, from, to);
      return;
    }
    const lastFrom = this.bounds[count * 2 - 2] as number;
    const lastTo = this.bounds[count * 2 - 1] as number;
    if (from > lastTo + 1) {
      this.insertAt(count, from, to);
      return;
    }
    if (from >= lastFrom) {
      // Touches only the last range: every earlier one ends before lastFrom - 1.
      if (to > lastTo) {
        this.bounds[count * 2 - 1] = to;
        this.elementTotal += to - lastTo;
      }
      return;
    }
    this.mergeRange(from, to);
  }

  /** Adds every element of `other`, in place. */
  addAll(other: IntervalSet): void {
    const max = this.max();
    if (max === undefined || (other.min() ?? Infinity) > max + 1) {
      other.forEachRange((from, to) => this.appendAscending(from, to));
      return;
    }
    const merged = this.union(other);
    this.bounds = merged.bounds;
    this.rangeTotal = merged.rangeTotal;
    this.elementTotal = merged.elementTotal;
  }

  has(value: number): boolean {
    const index = this.firstRangeEndingAtOrAfter(value);
    return index < this.rangeTotal && (this.bounds[index * 2] as number) <= value;
  }

  /** Calls `visit` with each range in ascending order; allocates nothing. */
  forEachRange(visit: (from: number, to: number) => void): void {
    for (let i = 0; i < this.rangeTotal; i++) {
      visit(this.bounds[i * 2] as number, this.bounds[i * 2 + 1] as number);
    }
  }

  /** The ranges in ascending order. */
  *ranges(): IterableIterator<Range> {
    for (let i = 0; i < this.rangeTotal; i++) {
      yield [this.bounds[i * 2] as number, this.bounds[i * 2 + 1] as number];
    }
  }

  /** The `limit` smallest elements, ascending (evidence: "the first few lost event ids"). */
  first(limit: number): number[] {
    const elements: number[] = [];
    for (let i = 0; i < this.rangeTotal && elements.length < limit; i++) {
      const to = this.bounds[i * 2 + 1] as number;
      for (let value = this.bounds[i * 2] as number; value <= to; value++) {
        elements.push(value);
        if (elements.length >= limit) break;
      }
    }
    return elements;
  }

  /** How many elements lie within `[from, to]`. */
  countWithin(from: number, to: number): number {
    let count = 0;
    for (let i = this.firstRangeEndingAtOrAfter(from); i < this.rangeTotal; i++) {
      const rangeFrom = this.bounds[i * 2] as number;
      if (rangeFrom > to) break;
      count += Math.min(to, this.bounds[i * 2 + 1] as number) - Math.max(from, rangeFrom) + 1;
    }
    return count;
  }

  union(other: IntervalSet): IntervalSet {
    const result = new IntervalSet(this.rangeTotal + other.rangeTotal);
    let i = 0;
    let j = 0;
    while (i < this.rangeTotal || j < other.rangeTotal) {
      const takeOwn =
        j >= other.rangeTotal ||
        (i < this.rangeTotal && (this.bounds[i * 2] as number) <= (other.bounds[j * 2] as number));
      if (takeOwn) {
        result.appendAscending(this.bounds[i * 2] as number, this.bounds[i * 2 + 1] as number);
        i++;
      } else {
        result.appendAscending(other.bounds[j * 2] as number, other.bounds[j * 2 + 1] as number);
        j++;
      }
    }
    return result;
  }

  intersection(other: IntervalSet): IntervalSet {
    const result = new IntervalSet();
    let i = 0;
    let j = 0;
    while (i < this.rangeTotal && j < other.rangeTotal) {
      const ownTo = this.bounds[i * 2 + 1] as number;
      const otherTo = other.bounds[j * 2 + 1] as number;
      const from = Math.max(this.bounds[i * 2] as number, other.bounds[j * 2] as number);
      const to = Math.min(ownTo, otherTo);
      if (from <= to) result.appendAscending(from, to);
      if (ownTo < otherTo) i++;
      else j++;
    }
    return result;
  }

  /** The elements of this set that are not in `other`. */
  difference(other: IntervalSet): IntervalSet {
    const result = new IntervalSet(this.rangeTotal);
    let j = 0;
    for (let i = 0; i < this.rangeTotal; i++) {
      let from = this.bounds[i * 2] as number;
      const to = this.bounds[i * 2 + 1] as number;
      while (j < other.rangeTotal && (other.bounds[j * 2 + 1] as number) < from) j++;
      let k = j;
      while (from <= to && k < other.rangeTotal && (other.bounds[k * 2] as number) <= to) {
        const holeFrom = other.bounds[k * 2] as number;
        if (holeFrom > from) result.appendAscending(from, holeFrom - 1);
        from = Math.max(from, (other.bounds[k * 2 + 1] as number) + 1);
        k++;
      }
      if (from <= to) result.appendAscending(from, to);
    }
    return result;
  }

  equals(other: IntervalSet): boolean {
    if (this.rangeTotal !== other.rangeTotal || this.elementTotal !== other.elementTotal) {
      return false;
    }
    for (let i = 0; i < this.rangeTotal * 2; i++) {
      if (this.bounds[i] !== other.bounds[i]) return false;
    }
    return true;
  }

  clone(): IntervalSet {
    const copy = new IntervalSet(this.rangeTotal);
    copy.bounds.set(this.bounds.subarray(0, this.rangeTotal * 2));
    copy.rangeTotal = this.rangeTotal;
    copy.elementTotal = this.elementTotal;
    return copy;
  }

  /** The JSON form: `[[from, to], ...]`, ascending and disjoint. */
  toJSON(): [number, number][] {
    const ranges: [number, number][] = [];
    this.forEachRange((from, to) => ranges.push([from, to]));
    return ranges;
  }

  toString(): string {
    const parts: string[] = [];
    this.forEachRange((from, to) => parts.push(from === to ? `${from}` : `${from}-${to}`));
    return `{${parts.join(", ")}}`;
  }

  /**
   * The set operations produce valid ranges in ascending order of their start, so they skip
   * the checks and the search of addRange: merge with the last range or append after it.
   */
  private appendAscending(from: number, to: number): void {
    const count = this.rangeTotal;
    const lastTo = count === 0 ? -2 : (this.bounds[count * 2 - 1] as number);
    if (from > lastTo + 1) {
      this.insertAt(count, from, to);
    } else if (to > lastTo) {
      this.bounds[count * 2 - 1] = to;
      this.elementTotal += to - lastTo;
    }
  }

  /** Index of the first range whose end is >= value (rangeTotal when there is none). */
  private firstRangeEndingAtOrAfter(value: number): number {
    let low = 0;
    let high = this.rangeTotal;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.bounds[middle * 2 + 1] as number) < value) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The general case: `[from, to]` may overlap or touch any number of existing ranges. */
  private mergeRange(from: number, to: number): void {
    const first = this.firstRangeEndingAtOrAfter(from - 1);
    let last = first - 1;
    while (last + 1 < this.rangeTotal && (this.bounds[(last + 1) * 2] as number) <= to + 1) {
      last++;
    }
    if (last < first) {
      this.insertAt(first, from, to);
      return;
    }
    let absorbed = 0;
    for (let i = first; i <= last; i++) {
      absorbed += (this.bounds[i * 2 + 1] as number) - (this.bounds[i * 2] as number) + 1;
    }
    const mergedFrom = Math.min(from, this.bounds[first * 2] as number);
    const mergedTo = Math.max(to, this.bounds[last * 2 + 1] as number);
    this.bounds[first * 2] = mergedFrom;
    this.bounds[first * 2 + 1] = mergedTo;
    const removed = last - first;
    if (removed > 0) {
      this.bounds.copyWithin((first + 1) * 2, (last + 1) * 2, this.rangeTotal * 2);
      this.rangeTotal -= removed;
    }
    this.elementTotal += mergedTo - mergedFrom + 1 - absorbed;
  }

  private insertAt(index: number, from: number, to: number): void {
    if ((this.rangeTotal + 1) * 2 > this.bounds.length) {
      const grown = new Float64Array(this.bounds.length * 2);
      grown.set(this.bounds.subarray(0, this.rangeTotal * 2));
      this.bounds = grown;
    }
    if (index < this.rangeTotal) {
      this.bounds.copyWithin((index + 1) * 2, index * 2, this.rangeTotal * 2);
    }
    this.bounds[index * 2] = from;
    this.bounds[index * 2 + 1] = to;
    this.rangeTotal++;
    this.elementTotal += to - from + 1;
  }
}
