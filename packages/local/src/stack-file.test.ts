import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findRunningStack, removeStackFile, writeStackFile } from "./stack-file";

const folder = () => {
  const dir = join(mkdtempSync(join(tmpdir(), "leadloop-stackfile-")), ".leadloop");
  mkdirSync(dir, { recursive: true });
  return dir;
};

describe("findRunningStack", () => {
  it("finds the running stack's url and data folder in its stack.json", () => {
    const dir = folder();
    writeStackFile({ url: "http://127.0.0.1:4123", port: 4123, pid: process.pid, dataDir: dir });
    expect(findRunningStack({ LEADLOOP_DATA_DIR: dir })).toMatchObject({ url: "http://127.0.0.1:4123", dataDir: dir });
  });

  it("lets PORT win over the file", () => {
    const dir = folder();
    writeStackFile({ url: "http://127.0.0.1:4123", port: 4123, pid: process.pid, dataDir: dir });
    expect(findRunningStack({ LEADLOOP_DATA_DIR: dir, PORT: "5000" }).url).toBe("http://127.0.0.1:5000");
  });

  it("ignores a stack.json whose process is gone and says which variable to set", () => {
    const dir = folder();
    writeStackFile({ url: "http://127.0.0.1:4123", port: 4123, pid: 2 ** 22 + 7, dataDir: dir });
    const found = findRunningStack({ LEADLOOP_DATA_DIR: dir });
    expect(found.url).toBe("http://127.0.0.1:3000");
    expect(found.from).toContain("set LEADLOOP_DATA_DIR");
    removeStackFile(dir);
    expect(findRunningStack({ LEADLOOP_DATA_DIR: dir }).from).toContain("no running stack found");
  });
});
