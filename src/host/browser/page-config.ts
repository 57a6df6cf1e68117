/**
 * The configuration the page boots the default guest with, in one place so
 * the page (web/main.ts) and the test that compares its bytes with Node's
 * (tests/web/deterministic.test.ts) build the same VM.
 */
import { defaultVmConfig, type VmConfig } from "../../vm/config.ts";
import { PAGE_SHARE_NAME, PAGE_SHARE_TAG } from "./protocol.ts";

/** The names the page gives the guest's files (keys of the boot message's `files`). */
export const PAGE_KERNEL = "Image";
export const PAGE_INITRD = "initramfs.cpio.gz";

export interface PageChoices {
  /** The kernel command line `virtus web` serves (the default guest's). */
  append: string;
  memoryMiB: number;
  harts: number;
  deterministic: boolean;
  /** How many disks the page attaches (/dev/vda, vdb…); the boot message says what backs each. */
  disks?: number;
  /** A NIC on the user-mode network of `virtus relay` (the boot message carries its URL). */
  relay?: boolean;
}

/** The name of the page's n-th disk in the configuration and in the boot message. */
export const pageDiskName = (n: number): string => `disk${n}`;

export function pageVmConfig(c: PageChoices): VmConfig {
  const config = defaultVmConfig(PAGE_KERNEL);
  config.initrd = PAGE_INITRD;
  config.append = c.append;
  config.memory = c.memoryMiB * 1024 * 1024;
  config.harts = c.harts;
  config.deterministic = c.deterministic;
  config.network = { ...config.network, mode: c.relay ? "user" : "none" };
  config.disks = Array.from({ length: c.disks ?? 0 }, (_, i) => ({ path: pageDiskName(i), readOnly: false }));
  config.shares = [{ hostDir: PAGE_SHARE_NAME, tag: PAGE_SHARE_TAG, readOnly: false }];
  return config;
}
