/**
 * Where a node of a config file stands (`config.yaml:12:5`) and the error that names it: every
 * message about a config file points at the line to fix, so each section's parser takes these two
 * instead of counting lines itself.
 */
import type { LineCounter, Node } from "yaml";
import { MtlsError } from "../errors.js";

/** `file:line:column` of a node, or the file alone for a node with no position. */
export type NodeAt = (node: Node | null | undefined) => string;
/** The exit-2 error for a value of the wrong shape, prefixed with where the value stands. */
export type ShapeError = (node: Node | null | undefined, message: string) => MtlsError;

export function nodePositions(file: string, lines: LineCounter): { at: NodeAt; shape: ShapeError } {
  const at: NodeAt = (node) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  const shape: ShapeError = (node, message) => new MtlsError("E_CONFIG_SHAPE", `${at(node)}: ${message}`);
  return { at, shape };
}
