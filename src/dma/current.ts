// The machine that calls without a device or machine argument act on. The kernel has exactly one
// machine, so some of its calls take none (dma_get_cache_alignment(), sg_set_buf() on a symbol);
// dmasim gives them the machine booted last, or the one made current with m.makeCurrent().

import { DmaSimRangeError } from '../lib/errors.js';
import type { DmaHost } from './device.js';

let current: DmaHost | null = null;

export function setCurrentMachine(m: DmaHost): void {
  current = m;
}

export function currentMachine(fn: string): DmaHost {
  if (current === null) throw new DmaSimRangeError(fn, 'machine', 'needs a machine: call createMachine() first');
  return current;
}
