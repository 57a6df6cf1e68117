import type { VmManager } from "./manager.ts";
import type { Store } from "./store.ts";

/** What every request handler works with. */
export interface ApiContext {
  store: Store;
  manager: VmManager;
  dataDir: string;
}
