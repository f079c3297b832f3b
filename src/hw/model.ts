// What a device model plugs into: the machine's clock, its physical bus (register windows) and
// its interrupt controller. The model classes themselves live in src/devices/ (over the public
// API); m.createDevice({ ..., model }) hands the new struct device and this host to the model.

import type { MmioWindow } from './mmio.js';
import type { TimerEvent } from './time.js';

export interface ModelHost {
  readonly clock: {
    now(): number;
    addTimer(delayNs: number, name: string, cb: () => void): TimerEvent;
    /** An event that is not pending yet, for arm(). */
    timer(name: string, cb: () => void): TimerEvent;
    /** (Re)schedules the event `delayNs` from now (mod_timer()). */
    arm(ev: TimerEvent, delayNs: number): void;
    cancel(ev: TimerEvent): boolean;
  };
  readonly mmio: {
    addWindow(w: MmioWindow, fn: string): void;
    removeWindow(w: MmioWindow): void;
  };
  readonly irq: {
    /** A fresh interrupt line for `owner`: its Linux IRQ number. */
    allocate(owner: string): number;
    /** Assert the line; handlers run at the next interleaving point unless it is masked. */
    raise(irq: number): void;
  };
  /** The machine's seed: a model derives its jitter from it, so runs replay. */
  readonly seed: number;
}

/** A device model as createDevice() sees it. `D` is the struct device type (dma/device.ts). */
export interface AttachableModel<D> {
  attach(dev: D, host: ModelHost): void;
}
