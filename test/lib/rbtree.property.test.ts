// lib/rbtree.ts (lib/rbtree.c: rb_link_node, rb_insert_color, rb_erase, rb_first, rb_last,
// rb_next, rb_prev) against a sorted array. Random sequences of inserts (a descent by key, then
// rb_link_node() and rb_insert_color(), as every kernel user inserts), erases of a random live
// key (rb_erase() then rb_free()) and clears, with keys from a small range so that erased ids
// are reused and the arrays grow past their first 64 entries. After every step: the tree is a
// valid red-black tree holding every allocated node, the in-order walk forwards (rb_first,
// rb_next) and backwards (rb_last, rb_prev) gives the reference's keys, and every node kept
// its id (a user's cached ids stay good).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RB_NIL, RbTree } from '../../src/lib/rbtree.js';

type Op = { readonly kind: 'insert' | 'erase'; readonly key: number } | { readonly kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('insert' as const), key: fc.integer({ min: 0, max: 299 }) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('erase' as const), key: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

/** A user of the tree: keys by node id, and the descent that places a new key. */
class Keyed {
  readonly tree = new RbTree();
  keys: number[] = [];
  readonly idOf = new Map<number, number>();

  insert(key: number): void {
    if (this.idOf.has(key)) return;
    const { left, right } = this.tree;
    let x = this.tree.root;
    let parent = RB_NIL;
    while (x !== RB_NIL) {
      parent = x;
      x = key < (this.keys[x] as number) ? (left[x] as number) : (right[x] as number);
    }
    const n = this.tree.rb_alloc();
    this.keys[n] = key;
    this.tree.rb_link_node(n, parent, parent !== RB_NIL && key < (this.keys[parent] as number));
    this.tree.rb_insert_color(n);
    this.idOf.set(key, n);
  }

  erase(key: number): void {
    const n = this.idOf.get(key) as number;
    this.tree.rb_erase(n);
    this.tree.rb_free(n);
    this.idOf.delete(key);
  }

  clear(): void {
    this.tree.clear();
    this.idOf.clear();
  }

  walk(first: number, next: (n: number) => number): number[] {
    const out: number[] = [];
    for (let n = first; n !== RB_NIL; n = next(n)) out.push(this.keys[n] as number);
    return out;
  }
}

describe('lib/rbtree.ts against a sorted array', () => {
  it('keeps order, balance and node ids through inserts, erases and clears', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), (ops) => {
        const t = new Keyed();
        let ref: number[] = [];
        for (const o of ops) {
          if (o.kind === 'insert') {
            t.insert(o.key);
            if (!ref.includes(o.key)) ref = [...ref, o.key].sort((a, b) => a - b);
          } else if (o.kind === 'erase') {
            if (ref.length === 0) continue;
            const key = ref[o.key % ref.length] as number;
            t.erase(key);
            ref = ref.filter((k) => k !== key);
          } else {
            t.clear();
            ref = [];
          }
          expect(t.tree.verify()).toBeNull();
          expect(t.tree.count).toBe(ref.length);
          expect(t.walk(t.tree.rb_first(), (n) => t.tree.rb_next(n))).toEqual(ref);
          expect(t.walk(t.tree.rb_last(), (n) => t.tree.rb_prev(n))).toEqual([...ref].reverse());
          for (const [key, n] of t.idOf) {
            expect(t.tree.rb_valid(n)).toBe(true);
            expect(t.keys[n]).toBe(key);
          }
        }
      }),
      { seed: 7, numRuns: 150 },
    );
  });

  it('verify() names a broken tree', () => {
    const t = new Keyed();
    for (const k of [5, 3, 8, 1, 4]) t.insert(k);
    const n = t.idOf.get(1) as number;
    t.tree.color[t.tree.parent[n] as number] = 1; // a red parent over a red child
    expect(t.tree.verify()).toMatch(/red node \d+ has a red child|black heights/);
  });
});
