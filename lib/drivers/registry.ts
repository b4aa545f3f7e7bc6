import type { DriverKind } from '../model/types.js';
import { bridgeDriver } from './bridge.js';
import { hostDriver } from './host.js';
import { noneDriver } from './none.js';
import { overlayDriver } from './overlay.js';
import type { Driver } from './types.js';

/** Typed by DriverKind: adding a kind to DRIVER_KINDS does not compile until it has a driver here. */
const DRIVERS: { readonly [K in DriverKind]: Driver & { readonly kind: K } } = {
  bridge: { ...bridgeDriver, kind: 'bridge' },
  host: { ...hostDriver, kind: 'host' },
  none: { ...noneDriver, kind: 'none' },
  overlay: { ...overlayDriver, kind: 'overlay' },
};

export const driverFor = (kind: DriverKind): Driver => DRIVERS[kind];
