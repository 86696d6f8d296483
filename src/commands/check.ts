/**
 * `mtls-certs check`: read the tree, judge every certificate, report. The reading and judging
 * live below the commands (store/check-tree.ts, pki/check-verdict.ts), where `renew` and `all`
 * start from the same judgement; the report's shapes are report/check-report.ts.
 */
export { checkTree, WORKER_THRESHOLD, type CheckOptions } from "../store/check-tree.js";
export { cannotCheckAs, caWindow, checkExitCode, checkFailed, missingSans } from "../pki/check-verdict.js";
export { configSans } from "../config/wanted-sans.js";
export { sansOf } from "../pki/node-facts.js";
export {
  entryFails,
  type CertStatus,
  type CheckEntry,
  type CheckReport,
  type SignedBy,
} from "../report/check-report.js";
