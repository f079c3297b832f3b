// Bad input to the device models: options no hardware could have (an unaligned or negative
// register base, a negative latency) are typed errors naming the constructor and the option; a
// model attached twice, or a `model` that is not one, is refused by createDevice; nothing is
// registered on the bus by a refused call.
import { expect, test } from 'vitest';
import { createMachine } from '../../src/index.js';
import { MemcpyEngine, NicModel } from '../../src/devices/index.js';
import { expectDmaSimError } from '../support/helpers.js';

test('bad model options and bad models are refused by name', async () => {
  expectDmaSimError('new NicModel', () => new NicModel({ mmioBase: 0x1000_0004 }));
  expectDmaSimError('new MemcpyEngine', () => new MemcpyEngine({ mmioBase: -4096 }));
  expectDmaSimError('new MemcpyEngine', () => new MemcpyEngine({ mmioBase: 0x1000_0000, latencyNs: -1 }));
  const m = await createMachine({ seed: 1 });
  expectDmaSimError('createDevice', () => m.createDevice({ name: 'x', model: {} as never }));
  const nic = new NicModel({ mmioBase: 0x1000_0000 });
  m.createDevice({ name: 'eth0', model: nic });
  expectDmaSimError('createDevice', () => m.createDevice({ name: 'eth1', model: nic }));
  // The refused second attach left the first window alone.
  expect(m.cpu.readl(m.ioremap(0x1000_0000, 4))).toBe(0x4e49_4331);
});
