/**
 * What `inspect` reports about a file: one item per certificate, key, CSR, CRL or public key it
 * holds. Here, below the command, because the debug report renders it (report/debug-report.ts)
 * and a report never imports a command.
 */
import type { CertFacts } from "../pki/cert-facts.js";

export interface CertificateItem extends CertFacts {
  readonly type: "certificate";
}

export interface PrivateKeyItem {
  readonly type: "private-key";
  readonly encrypted: boolean;
  /** "RSA 4096", "EC P-256"; null when encrypted and no password was given. */
  readonly key: string | null;
  readonly keyBits: number | null;
  /** Whether it belongs to the `keyOf` certificate (or the certificate in the same file); null: nothing to compare with. */
  readonly matches: boolean | null;
  /** Which certificate `matches` is about. */
  readonly matchedAgainst: string | null;
}

export interface CsrItem {
  readonly type: "csr";
  readonly subject: string;
  readonly key: string;
  readonly keyBits: number | null;
  readonly sans: string[];
  readonly signatureValid: boolean;
}

export interface CrlItem {
  readonly type: "crl";
  readonly issuer: string;
  readonly thisUpdate: string;
  readonly nextUpdate: string | null;
  readonly revoked: ReadonlyArray<{ readonly serial: string; readonly date: string; readonly reason: number | null }>;
}

export interface PublicKeyItem {
  readonly type: "public-key";
  readonly key: string;
  readonly keyBits: number | null;
}

export type InspectItem = CertificateItem | PrivateKeyItem | CsrItem | CrlItem | PublicKeyItem;

export interface InspectReport {
  readonly file: string;
  /** What the file is: one certificate, a bundle of them, a key, … or PEM holding several kinds. */
  readonly kind: "certificate" | "bundle" | "private-key" | "csr" | "crl" | "public-key" | "pkcs12" | "mixed";
  readonly format: "pem" | "der" | "pkcs12";
  readonly items: InspectItem[];
}
