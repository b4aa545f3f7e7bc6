/** What every operation needs, built once by the composition root (app.ts). */
import type { Kernel } from '../kernel/types.js';
import type { IdentityStore } from '../state/identity.js';
import type { StateRepository } from '../state/repository.js';

export interface ServiceContext {
  readonly repo: StateRepository;
  readonly kernel: Kernel;
  readonly now: () => Date;
  /** 64 hex chars of fresh randomness (network ids). */
  readonly newId: () => string;
  /** Which host this is in a cluster (overlay); absent or empty on a single host. */
  readonly identity?: IdentityStore;
}
