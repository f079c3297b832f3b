// Red-black trees: lib/rbtree.c and include/linux/rbtree.h over typed arrays. A node is a small
// integer id (0 is NULL) standing for the kernel's `struct rb_node *`; its links and colour live
// in this tree's arrays, and its user keeps the keys in arrays of its own indexed by the same id,
// as the kernel embeds an rb_node in the struct that holds the key. Like the kernel's, the tree
// knows nothing of keys: a user walks down comparing its keys, then rb_link_node() and
// rb_insert_color(); ids stay the same while a node is in the tree, so a user may cache them.
//
//   +------+-------+--------+-------+
//   | left | right | parent | color |   color: BLACK, RED, or FREE while the id is on the free
//   +------+-------+--------+-------+   list (linked by `right`); the arrays double as needed
//
// deviation: the balancing is CLRS's (with the NIL sentinel id 0), not lib/rbtree.c's case
// analysis, so a tree's shape can differ from Linux's after the same operations. Order, O(log n)
// height and every in-order walk are the same; a user whose result depends on the shape says so.

export const RB_NIL = 0;
const BLACK = 0;
const RED = 1;
const FREE = 2;

export class RbTree {
  left = new Int32Array(64);
  right = new Int32Array(64);
  parent = new Int32Array(64);
  color = new Uint8Array(64);
  /** struct rb_root: the root's id, RB_NIL when empty. */
  root = RB_NIL;
  private freeList = RB_NIL;
  private nextId = RB_NIL + 1;
  private live = 0;

  /** Ids below this have room in the arrays (a user sizes its key arrays to it). */
  get capacity(): number {
    return this.left.length;
  }

  /** Nodes allocated and not freed (in the tree, or about to be linked). */
  get count(): number {
    return this.live;
  }

  /** A node for the caller to key and link (the kmalloc of the struct holding the rb_node). */
  rb_alloc(): number {
    let n = this.freeList;
    if (n !== RB_NIL) this.freeList = this.right[n] as number;
    else {
      n = this.nextId++;
      if (n === this.left.length) this.grow();
    }
    this.left[n] = RB_NIL;
    this.right[n] = RB_NIL;
    this.parent[n] = RB_NIL;
    this.color[n] = RED;
    this.live++;
    return n;
  }

  /** Gives back a node that is not in the tree (erased, or never linked). */
  rb_free(n: number): void {
    this.color[n] = FREE;
    this.right[n] = this.freeList;
    this.freeList = n;
    this.live--;
  }

  /** Whether `n` names an allocated node (not NULL, not freed, not out of range). */
  rb_valid(n: number): boolean {
    return n > RB_NIL && n < this.nextId && this.color[n] !== FREE;
  }

  /** Every node freed and the tree empty, as freshly constructed. */
  clear(): void {
    this.left.fill(0);
    this.right.fill(0);
    this.parent.fill(0);
    this.color.fill(0);
    this.root = RB_NIL;
    this.freeList = RB_NIL;
    this.nextId = RB_NIL + 1;
    this.live = 0;
  }

  /** rb_first(): the leftmost node, RB_NIL for an empty tree. */
  rb_first(): number {
    let n = this.root;
    if (n === RB_NIL) return RB_NIL;
    while (this.left[n] !== RB_NIL) n = this.left[n] as number;
    return n;
  }

  /** rb_last(): the rightmost node, RB_NIL for an empty tree. */
  rb_last(): number {
    let n = this.root;
    if (n === RB_NIL) return RB_NIL;
    while (this.right[n] !== RB_NIL) n = this.right[n] as number;
    return n;
  }

  /** rb_next(): the in-order successor, RB_NIL after the last node. */
  rb_next(n: number): number {
    return this.step(n, this.right, this.left);
  }

  /** rb_prev(): the in-order predecessor, RB_NIL before the first node. */
  rb_prev(n: number): number {
    return this.step(n, this.left, this.right);
  }

  /** rb_next() with (fwd, back) = (right, left); rb_prev() with them swapped. */
  private step(n: number, fwd: Int32Array, back: Int32Array): number {
    let c = fwd[n] as number;
    if (c !== RB_NIL) {
      while (back[c] !== RB_NIL) c = back[c] as number;
      return c;
    }
    const parent = this.parent;
    let p = parent[n] as number;
    while (p !== RB_NIL && n === fwd[p]) {
      n = p;
      p = parent[p] as number;
    }
    return p;
  }

  /**
   * rb_link_node(): hang `node` (red, childless) below `parent` on the side the caller's
   * descent ended, or make it the root when `parent` is RB_NIL. rb_insert_color() follows.
   */
  rb_link_node(node: number, parent: number, leftSide: boolean): void {
    this.parent[node] = parent;
    this.left[node] = RB_NIL;
    this.right[node] = RB_NIL;
    this.color[node] = RED;
    if (parent === RB_NIL) this.root = node;
    else if (leftSide) this.left[parent] = node;
    else this.right[parent] = node;
  }

  /** rb_insert_color(): rebalance after rb_link_node(). */
  rb_insert_color(z: number): void {
    const { left, right, parent, color } = this;
    while (color[parent[z] as number] === RED) {
      const p = parent[z] as number;
      const g = parent[p] as number;
      // The parent's side of the grandparent is `near`; the uncle hangs on the `far` side.
      z = p === left[g] ? this.insertFixup(z, g, left, right) : this.insertFixup(z, g, right, left);
    }
    color[this.root] = BLACK;
  }

  /** One step of rb_insert_color() (both mirror cases): the node to look at next. */
  private insertFixup(z: number, g: number, near: Int32Array, far: Int32Array): number {
    const { parent, color } = this;
    let p = parent[z] as number;
    const u = far[g] as number;
    if (color[u] === RED) {
      color[p] = BLACK;
      color[u] = BLACK;
      color[g] = RED;
      return g;
    }
    if (z === far[p]) {
      z = p;
      this.rotate(z, far, near);
      p = parent[z] as number;
    }
    color[p] = BLACK;
    color[g] = RED;
    this.rotate(g, near, far);
    return z;
  }

  /**
   * rb_erase(). The successor node itself moves into z's place (no keys are copied), so every
   * other node keeps its id, as every other struct keeps its address in the kernel. The node
   * stays allocated: rb_free() it when done with it.
   */
  rb_erase(z: number): void {
    const { left, right, parent, color } = this;
    let yColor = color[z] as number;
    let x: number;
    if (left[z] === RB_NIL) {
      x = right[z] as number;
      this.transplant(z, x);
    } else if (right[z] === RB_NIL) {
      x = left[z] as number;
      this.transplant(z, x);
    } else {
      let y = right[z] as number;
      while (left[y] !== RB_NIL) y = left[y] as number;
      yColor = color[y] as number;
      x = right[y] as number;
      if (parent[y] === z) parent[x] = y;
      else {
        this.transplant(y, x);
        right[y] = right[z] as number;
        parent[right[y] as number] = y;
      }
      this.transplant(z, y);
      left[y] = left[z] as number;
      parent[left[y] as number] = y;
      color[y] = color[z] as number;
    }
    if (yColor === BLACK) this.eraseColor(x);
    // CLRS's erase may have written the sentinel's parent; NULL has none.
    parent[RB_NIL] = RB_NIL;
    color[RB_NIL] = BLACK;
  }

  /**
   * The tree's shape checked (the root a black orphan, each child's parent link, no red node
   * with a red child, equal black heights, every allocated node reachable): the first problem
   * found, or null. Key order is the user's to check, with an in-order walk. O(n).
   */
  verify(): string | null {
    const { left, right, parent, color } = this;
    if (this.root === RB_NIL) return this.live === 0 ? null : `${this.live} nodes allocated in an empty tree`;
    if (parent[this.root] !== RB_NIL || color[this.root] !== BLACK) return 'root is not a black orphan';
    let count = 0;
    let problem: string | null = null;
    const walk = (n: number): number => {
      if (n === RB_NIL || problem !== null) return 1;
      count++;
      const l = left[n] as number;
      const r = right[n] as number;
      if (color[n] === FREE) problem = `node ${n} is on the free list`;
      else if ((l !== RB_NIL && parent[l] !== n) || (r !== RB_NIL && parent[r] !== n)) problem = `node ${n}: child's parent link is wrong`;
      else if (color[n] === RED && (color[l] === RED || color[r] === RED)) problem = `red node ${n} has a red child`;
      const bl = walk(l);
      const br = walk(r);
      if (bl !== br && problem === null) problem = `node ${n}: black heights ${bl} and ${br}`;
      return bl + (color[n] === BLACK ? 1 : 0);
    };
    walk(this.root);
    if (problem !== null) return problem;
    return count === this.live ? null : `${count} nodes in the tree, ${this.live} allocated`;
  }

  private grow(): void {
    const cap = this.left.length * 2;
    this.left = resized(this.left, new Int32Array(cap));
    this.right = resized(this.right, new Int32Array(cap));
    this.parent = resized(this.parent, new Int32Array(cap));
    this.color = resized(this.color, new Uint8Array(cap));
  }

  /**
   * A rotation that lifts x's `up` child into x's place, x becoming its `down` child:
   * rotate(x, right, left) is the left rotation, rotate(x, left, right) the right one.
   */
  private rotate(x: number, up: Int32Array, down: Int32Array): void {
    const parent = this.parent;
    const y = up[x] as number;
    const yd = down[y] as number;
    up[x] = yd;
    if (yd !== RB_NIL) parent[yd] = x;
    const xp = parent[x] as number;
    parent[y] = xp;
    if (xp === RB_NIL) this.root = y;
    else if (x === down[xp]) down[xp] = y;
    else up[xp] = y;
    down[y] = x;
    parent[x] = y;
  }

  /** Puts v where u was; v may be RB_NIL, whose parent is then set as CLRS's erase expects. */
  private transplant(u: number, v: number): void {
    const up = this.parent[u] as number;
    if (up === RB_NIL) this.root = v;
    else if (u === this.left[up]) this.left[up] = v;
    else this.right[up] = v;
    this.parent[v] = up;
  }

  /** The rebalancing half of rb_erase() (____rb_erase_color()). */
  private eraseColor(x: number): void {
    const { left, right, parent, color } = this;
    while (x !== this.root && color[x] === BLACK) {
      const xp = parent[x] as number;
      // x hangs on the `near` side of its parent; its sibling on the `far` side.
      x = x === left[xp] ? this.eraseFixup(xp, left, right) : this.eraseFixup(xp, right, left);
    }
    color[x] = BLACK;
  }

  /** One step of ____rb_erase_color() (both mirror cases): the node to look at next. */
  private eraseFixup(xp: number, near: Int32Array, far: Int32Array): number {
    const color = this.color;
    let w = far[xp] as number;
    if (color[w] === RED) {
      color[w] = BLACK;
      color[xp] = RED;
      this.rotate(xp, far, near);
      w = far[xp] as number;
    }
    if (color[near[w] as number] === BLACK && color[far[w] as number] === BLACK) {
      color[w] = RED;
      return xp;
    }
    if (color[far[w] as number] === BLACK) {
      color[near[w] as number] = BLACK;
      color[w] = RED;
      this.rotate(w, near, far);
      w = far[xp] as number;
    }
    color[w] = color[xp] as number;
    color[xp] = BLACK;
    color[far[w] as number] = BLACK;
    this.rotate(xp, far, near);
    return this.root;
  }
}

/** `to` with `from` copied into its start (an array doubled). */
export function resized<T extends Int32Array | Uint8Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
