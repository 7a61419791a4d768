import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configJsonSchemas, serializeJsonSchema } from "./json-schema";

const configDir = fileURLToPath(new URL("../../../../config", import.meta.url));

describe("committed JSON Schemas", () => {
  const generated = configJsonSchemas();

  it("equal freshly generated ones (run `npm run config:schema` after changing schema.ts)", () => {
    expect(readdirSync(join(configDir, "schema")).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) {
      expect(readFileSync(join(configDir, "schema", file), "utf8"), file).toBe(serializeJsonSchema(schema));
    }
  });

  it("are referenced by every YAML file with a path that resolves", () => {
    const yamlFiles = [
      ...["forms.yaml", "segments.yaml", "scoring.yaml", "teams.yaml"],
      ...readdirSync(join(configDir, "sequences")).map((f) => `sequences/${f}`),
    ];
    for (const file of yamlFiles) {
      const firstLine = readFileSync(join(configDir, file), "utf8").split("\n")[0] ?? "";
      const ref = /^# yaml-language-server: \$schema=(\S+)$/.exec(firstLine)?.[1];
      expect(ref, file).toBeDefined();
      const target = resolve(dirname(join(configDir, file)), ref ?? "");
      const expected = file.startsWith("sequences/") ? "sequence.schema.json" : file.replace(".yaml", ".schema.json");
      expect(target, file).toBe(join(configDir, "schema", expected));
    }
  });

  it("describe what a marketer writes: defaulted settings are optional", () => {
    const sequence = generated["sequence.schema.json"] as { required?: string[] };
    expect(sequence.required).toEqual(expect.arrayContaining(["id", "segment", "steps"]));
    expect(sequence.required).not.toContain("sendWindow");
  });
});
