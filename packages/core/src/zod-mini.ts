/**
 * zod/mini with classic zod's English messages, for the modules the public API function runs
 * (the event contract, form and site-event validation, the settings parsed at start-up). The
 * mini build is a quarter of classic zod's bytes in a bundle (it tree-shakes by function, where
 * classic's method chains keep every schema type), and both share zod's core: a mini schema
 * nests in a classic one, `z.toJSONSchema` reads either, and an issue reads the same in both.
 * Classic zod sets the English messages when it is imported; mini sets none, so this module does.
 * Import it as `import * as z from "./zod-mini"` (never a named `z`: that keeps the whole namespace).
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
