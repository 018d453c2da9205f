// Shared by the JS tests (not a test file itself: node --test picks only *.test.mjs here).
import { readFileSync } from "node:fs";

/** A fixture's JSON, written by Python's json module: NaN and ±Infinity appear as bare tokens. */
export function readFixtureJson(path) {
  const special = { "NaN!": NaN, "Infinity!": Infinity, "-Infinity!": -Infinity };
  const text = readFileSync(path, "utf8").replace(/(?<=[[,:]\s*)(-?Infinity|NaN)(?=\s*[\],}])/g, '"$1!"');
  return JSON.parse(text, (_, v) => (typeof v === "string" && v in special ? special[v] : v));
}
