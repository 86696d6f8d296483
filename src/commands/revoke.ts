import { MtlsError } from "../errors.js";
export function revokeCertificate(_t: string, _o: object): Promise<{ crl: string }> {
  throw new MtlsError("E_USAGE", "revoke: not implemented yet");
}
export function refreshCrl(_o: object): Promise<{ crl: string }> {
  throw new MtlsError("E_USAGE", "crl: not implemented yet");
}
export function renderCrlReport(r: { crl: string }): string {
  return r.crl + "\n";
}
