// usage: node tests/kvm/make-prebuilt.ts OUT_DIR — stores build-kernel.sh's OUT_DIR/Image as tests/kvm/prebuilt/.
import { writeKvmPrebuilt } from "./prebuilt-kernel.ts";

const out = process.argv[2];
if (out === undefined) {
  console.error("usage: node tests/kvm/make-prebuilt.ts OUT_DIR (the directory build-kernel.sh wrote)");
  process.exit(2);
}
writeKvmPrebuilt(out);
