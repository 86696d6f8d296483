import { MtlsError } from "../errors.js";
export function exportP12(_t: string, _o: object): Promise<{ file: string }> {
  throw new MtlsError("E_USAGE", "export p12: not implemented yet");
}
export function renderP12Report(r: { file: string }): string {
  return r.file + "\n";
}
