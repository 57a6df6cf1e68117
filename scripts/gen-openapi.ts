// Writes docs/openapi.json from the daemon's route table (src/daemon/api.ts).
import { writeFileSync } from "node:fs";
import { OPENAPI_FILE, openApiDocument } from "../src/daemon/openapi.ts";

writeFileSync(OPENAPI_FILE, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${OPENAPI_FILE.pathname}`);
