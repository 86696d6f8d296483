import { MtlsError } from "../errors.js";
export function fingerprintCertificate(_t: string, _o: object): Promise<{ cert: string }> {
  throw new MtlsError("E_USAGE", "fingerprint: not implemented yet");
}
export function renderFingerprint(r: { cert: string }): string {
  return r.cert + "\n";
}
