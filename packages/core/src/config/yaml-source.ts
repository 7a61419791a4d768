/**
 * A YAML config file parsed with its source positions kept, so that any problem found later, by
 * zod or by a cross-reference check, can be reported at the exact line and column it concerns.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { Problem } from "./problem";

export type PathSegment = string | number;

export interface YamlSource {
  /** path shown to people, relative to the config folder's parent */
  file: string;
  /**
   * The parsed content. With syntax problems it is what the parser recovered around them, so the
   * rest of the file can still be checked; a key next to a syntax error may be missing from it.
   */
  data: unknown;
  syntaxProblems: Problem[];
  /** 1-based position of the value (or, with `key`, the key) at `path`, or of its nearest ancestor */
  positionOf(path: readonly PathSegment[], target?: "value" | "key"): { line: number; column: number };
}

export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const syntaxProblems: Problem[] = doc.errors.map((error) => {
    const { line, column } = at(error.pos[0]);
    // yaml appends a source excerpt to its message; the first line is the readable part.
    const message = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? error.message;
    return { file, line, column, message: `YAML syntax error: ${message}`, hint: syntaxHint(error.code) };
  });

  const positionOf = (path: readonly PathSegment[], target: "value" | "key" = "value") => {
    let node: unknown = doc.contents;
    let position = node && (node as Node).range ? at((node as Node).range![0]) : { line: 1, column: 1 };
    for (const [i, segment] of path.entries()) {
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
        if (pair === undefined) return position;
        const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
        const valueRange = (pair.value as Node | null)?.range;
        const range = last && target === "key" ? (keyRange ?? valueRange) : (valueRange ?? keyRange);
        if (range) position = at(range[0]);
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment] as Node | undefined;
        if (!item?.range) return position;
        position = at(item.range[0]);
        node = item;
      } else {
        return position;
      }
    }
    return position;
  };

  return { file, data: recovered(doc), syntaxProblems, positionOf };
}

/** The document's content, or as much as the parser recovered around its syntax errors. */
function recovered(doc: ReturnType<typeof parseDocument>): unknown {
  try {
    return doc.toJS();
  } catch {
    return undefined;
  }
}

function syntaxHint(code: string): string | undefined {
  switch (code) {
    case "DUPLICATE_KEY":
      return "each key may appear only once in the same block; remove or rename one";
    case "BAD_INDENT":
    case "MISSING_CHAR":
      return "check the indentation: nested settings need two more spaces than their parent";
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY":
      return "a `key: value` pair must fit on one line; put quotes around text that contains ': '";
    case "TAB_AS_INDENT":
      return "indent with spaces, not tabs";
    default:
      return "put quotes around text that contains ':', '#', '{' or '['";
  }
}
