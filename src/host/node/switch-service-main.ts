/**
 * The switch service's process (switch-service.ts), as SwitchPort spawns
 * it and as it can be run by hand: `node switch-service-main.ts NAME`
 * serves NAME until idle; a second service for the same name just exits.
 * An entry of its own so that the bundle (scripts/bundle.ts) has one.
 */
import { SWITCH_NAME_RE } from "../../vm/network-config.ts";
import { startSwitchService } from "./switch-service.ts";

const name = process.argv[2] ?? "";
if (!SWITCH_NAME_RE.test(name)) {
  process.stderr.write(`virtus switch: "${name}" is not a switch name (letters, digits, _ . -)\n`);
  process.exitCode = 2;
} else {
  startSwitchService(name).catch((e: NodeJS.ErrnoException) => {
    process.exitCode = e.code === "EADDRINUSE" ? 0 : 1;
  });
}
