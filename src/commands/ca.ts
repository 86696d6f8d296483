import { issueIntoTree } from "../store/tree.js";
import type { IssueReport, TreeOptions } from "../store/issue-types.js";

/**
 * `mtls-certs ca`: creates the CA when the tree has none; an existing CA is kept as it is.
 * With `intermediate`, a new CA also gets an intermediate that signs every leaf. Here `days` is
 * the CA's own validity, as `ca --days` (`caDays` wins when both are given); default 3650.
 */
export function createCa(o: TreeOptions = {}): Promise<IssueReport> {
  return issueIntoTree({ ...o, caDays: o.caDays ?? o.days }, []);
}
