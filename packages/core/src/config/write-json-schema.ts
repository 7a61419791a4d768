/** `npm run config:schema`: regenerates config/schema/*.schema.json after a schema change. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { configJsonSchemas, serializeJsonSchema } from "./json-schema";

const outDir = resolve(process.argv[2] ?? join(process.cwd(), "config", "schema"));
mkdirSync(outDir, { recursive: true });
for (const [file, schema] of Object.entries(configJsonSchemas())) {
  writeFileSync(join(outDir, file), serializeJsonSchema(schema));
  console.log(`wrote ${join(outDir, file)}`);
}
