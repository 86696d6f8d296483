/**
 * `mtls-certs check`: read the tree once (store/inventory.ts), judge every certificate
 * (store/ca-verdict.ts, leaf-verdict.ts, tree-verdict.ts over pki/), report (report/). All of it
 * lives below the commands, where `renew` and `all` start from the same read and judgement; this
 * is the command's face for the CLI and the library.
 */
export { checkTree, WORKER_THRESHOLD, type CheckOptions } from "../store/check-tree.js";
export { checkExitCode, checkFailed } from "../pki/check-verdict.js";
export type { CertStatus, CheckEntry, CheckReport, SignedBy } from "../pki/check-entry.js";
