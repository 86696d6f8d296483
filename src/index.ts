/**
 * The library API of mtls-certs: the same functions the CLI calls, with the same option names
 * and defaults as its flags. Errors are `MtlsError` with a stable `code` and the CLI's exit code.
 */
export { MtlsError, ERROR_CODES, EXIT, type ErrorCode } from "./errors.js";
export * as defaults from "./defaults.js";
export { KEY_TYPES, type KeyType } from "./pki/keys.js";
export type { Role, San } from "./pki/profiles.js";
export type { TreeOptions, IssueReport } from "./store/issue-types.js";
export type { CertResult, CertAction } from "./store/cert-result.js";
export { createCa } from "./commands/ca.js";
export { issueGateway } from "./commands/gateway.js";
export { issuePlugin, type PluginOptions } from "./commands/plugin.js";
export { all, type AllOptions, type AllReport } from "./commands/all.js";
export { issueServer, type ServerOptions } from "./commands/server.js";
export { issueClient, type ClientOptions } from "./commands/client.js";
export { issueHttps, type HttpsOptions } from "./commands/https.js";
export { issueJwtKeys, type JwtOptions, type JwtReport, type JwtKeyResult } from "./commands/jwt.js";
export { signCsr, type SignOptions, type SignReport } from "./commands/sign.js";
export { decryptKey, type DecryptKeyOptions, type DecryptKeyResult } from "./commands/key.js";
export {
  checkTree,
  checkFailed,
  checkExitCode,
  type CheckOptions,
  type CheckReport,
  type CheckEntry,
  type CertStatus,
  type SignedBy,
} from "./commands/check.js";
export {
  renewTree,
  renewNeedsAttention,
  renewExitCode,
  finishCaRotation,
  type RenewOptions,
  type RenewReport,
  type RenewedCert,
  type FailedCert,
  type CertState,
  type CaRotation,
  type FinishRotationOptions,
  type FinishRotationReport,
} from "./commands/renew/index.js";
export { spkiPin } from "./pki/node-facts.js";
export { renderPrometheus, METRICS as PROMETHEUS_METRICS } from "./report/prometheus.js";
export {
  runDeployHook,
  deployHookInput,
  DEPLOY_HOOK_ENV,
  type DeployHookInput,
  type DeployHookResult,
} from "./commands/deploy-hook.js";
export { renderGithubAnnotations } from "./report/github.js";
export { loadPluginConfig, parsePluginConfig } from "./config/plugin-config.js";
export type { PluginConfig, PluginEntry, PluginTransport } from "./config/config-data.js";
export {
  createMemoryCa,
  type MemoryCa,
  type MemoryCaOptions,
  type MemoryCert,
  type MemoryLeafOptions,
  type MemoryValidityOptions,
  type LeafRole,
} from "./memory.js";
export {
  inspectFile,
  inspectFailed,
  type InspectOptions,
  type InspectReport,
  type InspectItem,
  type CertificateItem,
  type PrivateKeyItem,
  type CsrItem,
  type CrlItem,
  type PublicKeyItem,
} from "./commands/inspect.js";
export {
  verifyCertificate,
  verifyPem,
  verifyFailed,
  type VerifyOptions,
  type VerifyPemOptions,
  type VerifyReport,
  type VerifyProblem,
  type VerifyProblemCode,
  type VerifyPurpose,
  type ChainLink,
} from "./commands/verify.js";
export type { CertFacts, BasicConstraints, NameConstraintsFacts } from "./pki/cert-facts.js";
export {
  revokeCertificate,
  refreshCrl,
  type CrlOptions,
  type RevokeOptions,
  type CrlReport,
} from "./commands/revoke.js";
export { REVOCATION_REASONS, type RevocationReason } from "./pki/crl.js";
export { listLedger, adoptTree, type LedgerListing, type AdoptReport } from "./commands/ledger.js";
export { readLedger, type Ledger, type LedgerEntry, type LedgerStatus } from "./store/ledger.js";
export { fingerprintCertificate, type FingerprintReport } from "./commands/fingerprint.js";
export { exportP12, type P12Options, type P12Report } from "./commands/p12.js";
export { exportNginx, exportHaproxy, exportCaddy, type ProxyExportOptions } from "./export/proxies.js";
export { exportKubernetes, type KubernetesExportOptions } from "./export/kubernetes.js";
export { exportIstio } from "./export/istio.js";
export { kubernetesName } from "./export/kubernetes-names.js";
export { exportGatewayApi, type GatewayApiExportOptions } from "./export/gateway-api.js";
export { exportEnv, exportPluginTls, ENV_FORMATS, type EnvExportOptions, type EnvFormat } from "./export/env.js";
export { exportGatewayRegistration, type GatewayRegistrationOptions } from "./export/gateway-registration.js";
export {
  exportPrometheusRules,
  ALERT_RULES,
  type AlertRule,
  type PrometheusRulesOptions,
} from "./export/prometheus-rules.js";
export type { ExportOptions, ExportResult } from "./export/sources.js";
export type { StackCertificates } from "./config/config-data.js";
export {
  caExtensionsFromFlags,
  nameConstraintsFromFlags,
  nameConstraintsExtension,
  readNameConstraints,
  describeNameConstraints,
  type NameConstraintFlags,
  type NameConstraintSet,
} from "./pki/constraints.js";
