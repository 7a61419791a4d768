/**
 * Runs the SES v2 emulator (npm `aws-ses-v2-local`) with its caught emails kept in a file, so
 * `/dev/emails` and the emulator's own viewer still list them after a restart of the local stack.
 * The emulator keeps its store in memory only; this launcher re-seeds that store from the file
 * before listening and appends every email the emulator saves (one JSON object a line, written
 * synchronously, so a killed stack loses nothing already answered). `POST /clear-store` empties
 * the file too.
 *
 * Usage: node ses-local-launcher.cjs --host 127.0.0.1 --port 8005 --store-file .leadloop/ses-emails.jsonl
 */
const { appendFileSync, existsSync, readFileSync, writeFileSync } = require("node:fs");
const store = require("aws-ses-v2-local/dist/store");
const server = require("aws-ses-v2-local").default;

function option(name) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const host = option("host") ?? "127.0.0.1";
const port = Number(option("port") ?? 8005);
const storeFile = option("store-file");

if (storeFile) {
  if (existsSync(storeFile)) {
    const emails = store.getStoreReadonly().emails;
    for (const line of readFileSync(storeFile, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        emails.push(JSON.parse(line));
      } catch {
        // A line cut short by a crash mid-write: the email before it is whole, this one is lost.
      }
    }
    // Written back whole, so the next email is not appended to a line cut short.
    writeFileSync(storeFile, emails.map((email) => `${JSON.stringify(email)}\n`).join(""));
  }
  // The emulator's routes call these through the module's exports, so the wrappers see every save.
  const saveEmail = store.saveEmail;
  store.saveEmail = (email) => {
    appendFileSync(storeFile, `${JSON.stringify(email)}\n`);
    saveEmail(email);
  };
  const clearStore = store.clearStore;
  store.clearStore = () => {
    writeFileSync(storeFile, "");
    clearStore();
  };
}

console.log("aws-ses-v2-local: starting server...");
server({ host, port })
  .then((listener) => {
    // Express hands a listen error to the callback and the emulator resolves anyway.
    if (!listener.listening) {
      console.error(`aws-ses-v2-local: EADDRINUSE: address already in use ${host}:${port}`);
      process.exit(1);
    }
    console.log(`aws-ses-v2-local: server running at http://${host}:${port}`);
  })
  .catch((error) => {
    console.log("aws-ses-v2-local: failed to start server");
    console.error(error);
    process.exit(1);
  });
