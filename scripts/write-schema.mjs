// Writes config.schema.json (published as shardedstore/config.schema.json) from the built schema module.
import { writeFileSync } from "node:fs";
import { configSchema } from "../dist/config/schema.js";

writeFileSync(
  new URL("../config.schema.json", import.meta.url),
  `${JSON.stringify(configSchema, null, 2)}\n`,
);
