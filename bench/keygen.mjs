#!/usr/bin/env node
// The floor `all` is measured against in `npm run bench`: N RSA keys from node:crypto's
// generateKeyPair, all at once, in a process sized as mtls-certs sizes its thread pool (cli.ts).
// Usage: keygen.mjs COUNT BITS
import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";

const [count = "10", bits = "4096"] = process.argv.slice(2);
const generate = promisify(generateKeyPair);
await Promise.all(
  Array.from({ length: Number(count) }, () =>
    generate("rsa", { modulusLength: Number(bits), publicExponent: 0x10001 }),
  ),
);
