/** Wiring of `probe`: the running links, dialed as the gateway dials them. */
import { type Command, Option } from "commander";
import { EXIT } from "../errors.js";
import type { CommandContext } from "./command-context.js";
import { documented, withExamples } from "./option-help.js";
import { type ReportFormat, reportFormat, reportFormatOptions } from "./report-format.js";
import { readSecret, secretOptions } from "./secret-options.js";
import { configOption, configPath, treeOption } from "./tree-options.js";

interface ProbeFlags {
  out: string;
  config?: string;
  connect?: string;
  gatewayCert?: string;
  gatewayKey?: string;
  ca?: string;
  crl?: string;
  timeout?: string;
  jobs?: string;
  json?: boolean;
  format?: ReportFormat;
  quiet?: boolean;
}

export function registerProbeCommand({ program, io, action }: CommandContext): void {
  const probe = program
    .command("probe")
    .description(
      "dial every external plugin as the gateway does (its client cert, strict checks, hostname on); exit 1 when a link fails, naming why",
    )
    .argument("[name...]", "plugins to probe (default: every external plugin in the config)");
  treeOption(probe, "the tree the gateway's cert, key and CA come from");
  withExamples(
    probe,
    "mtls-certs probe",
    "mtls-certs probe DenyListPlugin --connect 127.0.0.1:8443",
    "mtls-certs probe --format prometheus > /var/lib/node_exporter/mtls_probe.prom",
  );
  secretOptions(probe, "key-passphrase", "the passphrase of the gateway's client key");
  probe
    .addOption(configOption())
    .option("--connect <host:port>", "dial this address instead, checking the plugin's own name (one plugin)")
    .addOption(
      documented(
        new Option("--gateway-cert <file>", "the client cert the gateway presents"),
        "<out>/gateway/client.crt",
      ),
    )
    .addOption(documented(new Option("--gateway-key <file>", "its key"), "<out>/gateway/client.key"))
    .addOption(documented(new Option("--ca <file>", "the CA file the gateway trusts"), "<out>/ca/ca.crt"))
    .addOption(
      documented(
        new Option("--crl <file>", "check the server's cert against this CRL"),
        "the tree's (ca/bundle.crl during a rotation, else ca/ca.crl), when it has one",
      ),
    )
    .addOption(documented(new Option("--timeout <seconds>", "per dial: connect, handshake and first answer"), 5))
    .addOption(documented(new Option("--jobs <n>", "dials at once"), 8));
  reportFormatOptions(probe)
    .option("-q, --quiet", "table: only the links that fail, nothing when all work")
    .action(
      action(async (names: string[], flags: ProbeFlags, command: Command) => {
        const format = reportFormat(flags);
        const { parseWholeNumber } = await import("../pki/names.js");
        const timeout = flags.timeout === undefined ? 5 : parseWholeNumber(flags.timeout, "--timeout", 1, 600);
        const jobs = flags.jobs === undefined ? 8 : parseWholeNumber(flags.jobs, "--jobs", 1, 256);
        const { probePlugins } = await import("../commands/probe/index.js");
        const report = await probePlugins({
          names,
          config: await configPath(flags.config, io),
          // Without --out, an mcp-stack.yaml's certificates.*_path say where the tree is (as for `check`).
          out: command.getOptionValueSource("out") === "default" ? undefined : flags.out,
          gatewayCert: flags.gatewayCert,
          gatewayKey: flags.gatewayKey,
          ca: flags.ca,
          crl: flags.crl,
          keyPassphrase: await readSecret(flags, "key-passphrase", io),
          connect: flags.connect,
          timeoutMs: timeout * 1000,
          jobs,
        });
        const render = await import("../report/probe-report.js");
        if (format === "json") io.stdout.write(JSON.stringify(report, null, 2) + "\n");
        else if (format === "github") io.stdout.write(render.renderProbeGithub(report));
        else if (format === "prometheus") io.stdout.write(render.renderProbePrometheus(report));
        else {
          const { styleFor } = await import("../report/terminal.js");
          io.stdout.write(render.renderProbeTable(report, await styleFor(io.stdout), Boolean(flags.quiet)));
        }
        return report.ok ? EXIT.ok : EXIT.problem;
      }),
    );
}
