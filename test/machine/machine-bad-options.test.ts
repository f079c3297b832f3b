// Options and queries of the machine itself (issue 13, item 10): createMachine with a load,
// config or cmdline of the wrong shape, or a core that is no engine; m.setLoad with no knobs
// object (it used to reset every knob); createDevice with a dmaRangeMap entry that is none;
// m.isRam, m.physToOffset and m.translate with no number. Each is a DmaSimError naming the call
// and the argument, and the machine is unchanged.
import { describe, expect, test } from 'vitest';
import { createMachine, DmaSimError, DmaSimRangeError, DmaSimTypeError, type MachineOptions } from '../../src/index.js';
import { refused } from '../support/refused.js';

async function rejected(opts: unknown, arg: string, cls: { [Symbol.hasInstance](x: unknown): boolean }): Promise<void> {
  const err = await createMachine(opts as MachineOptions).catch((e: unknown) => e);
  expect(err, JSON.stringify(opts)).toBeInstanceOf(cls);
  expect(err).toBeInstanceOf(DmaSimError);
  expect((err as Error).message).toMatch(new RegExp(`^createMachine: ${arg.replace('.', '\\.')}`));
}

describe('machine options and queries of the wrong shape', () => {
  test('createMachine: load, config, cmdline and core', async () => {
    await rejected({ load: 5 }, 'load', DmaSimTypeError);
    await rejected({ load: { bogus: 1 } }, 'load.bogus', DmaSimRangeError);
    await rejected({ config: 5 }, 'config', DmaSimTypeError);
    await rejected({ cmdline: null }, 'cmdline', DmaSimTypeError);
    await rejected({ core: 5 }, 'core', DmaSimTypeError);
    await rejected({ core: new Uint8Array([0, 0x61, 0x73]) }, 'core', DmaSimRangeError);
  });

  test('m.setLoad with no knobs object leaves every knob as it was', async () => {
    const m = await createMachine({ load: { evictionPressure: 0.5 } });
    refused(m, () => m.setLoad(5 as never), 'setLoad', 'load', DmaSimTypeError);
    refused(m, () => m.setLoad('x' as never), 'setLoad', 'load', DmaSimTypeError);
    refused(m, () => m.setLoad(null as never), 'setLoad', 'load', DmaSimTypeError);
  });

  test('createDevice with a dmaRangeMap entry that is no region', async () => {
    const m = await createMachine();
    refused(m, () => m.createDevice({ name: 'x', dmaRangeMap: [null as never] }), 'createDevice', 'dmaRangeMap[0]', DmaSimTypeError);
  });

  test('isRam, physToOffset and translate with no number', async () => {
    const m = await createMachine();
    refused(m, () => m.isRam('x' as never, 1), 'isRam', 'phys', DmaSimTypeError);
    refused(m, () => m.physToOffset(null as never, 1), 'physToOffset', 'phys', DmaSimTypeError);
    refused(m, () => m.translate('x' as never), 'translate', 'virt', DmaSimTypeError);
    expect(m.isRam(-1, 1)).toBe(false); // a number that is no RAM: the answer is no
  });
});
