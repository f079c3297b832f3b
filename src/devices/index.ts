// dmasim/devices: device models that run on their own (the `./devices` package entry). Each is a
// bus master with registers and an interrupt line; create one with m.createDevice({ ..., model }).
// Register maps are in README ("Device models").

export { DeviceModel, read64, write64 } from './model.js';
export type { DeviceModelOptions } from './model.js';
export {
  MemcpyEngine, MEMCPY_ID, MEMCPY_REG, MEMCPY_CTRL_ENABLE, MEMCPY_CTRL_RESET, MEMCPY_STATUS_BUSY, MEMCPY_STATUS_DONE,
  MEMCPY_STATUS_ERR, MEMCPY_DESC_SIZE, MEMCPY_DESC, MEMCPY_DESC_INT, MEMCPY_DESC_DONE, MEMCPY_DESC_ERR,
} from './memcpy.js';
export type { MemcpyEngineOptions } from './memcpy.js';
export {
  NicModel, nicPayload, NIC_ID, NIC_REG, NIC_CTRL_RX_EN, NIC_CTRL_TX_EN, NIC_CTRL_RESET, NIC_INT_RX, NIC_INT_TX,
  NIC_DESC_SIZE, NIC_DESC, NIC_DESC_OWN, NIC_DESC_DONE,
} from './nic.js';
export type { NicModelOptions } from './nic.js';
