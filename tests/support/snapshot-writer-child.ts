/**
 * Child process for the kill -9 test (tests/host/snapshot-file.test.ts):
 * writes a big snapshot file (256 MiB of incompressible RAM, no
 * compression) atomically to argv[2], saying "WRITING" just before.
 */
import { randomFillSync } from "node:crypto";
import { plainCodec } from "../../src/formats/snapshot/codec.ts";
import { encodeSnapshotFile } from "../../src/formats/snapshot/file.ts";
import { writeFileAtomic } from "../../src/host/node/atomic-file.ts";
import { VirtMachine } from "../../src/machine/board/virt.ts";
import { ramView, saveVm } from "../../src/machine/snapshot/machine-snapshot.ts";

const vm = new VirtMachine({ ramSize: 256 << 20 });
const ram = ramView(vm);
for (let at = 0; at < ram.length; at += 1 << 16) randomFillSync(ram.subarray(at, at + (1 << 16)));
const parts = encodeSnapshotFile(saveVm(vm), { config: { big: true }, disks: [] }, plainCodec);
process.stdout.write("WRITING\n");
writeFileAtomic(process.argv[2], parts);
process.stdout.write("DONE\n");
