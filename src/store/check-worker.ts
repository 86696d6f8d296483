/** A worker thread of `check` on a big tree: reads and judges one slice of the leaves (leaf-check-job.ts). */
import { parentPort, workerData } from "node:worker_threads";
import { runLeafCheckJob, type LeafCheckJob } from "./leaf-check-job.js";

// No top-level await: the single executable runs this file as CommonJS (scripts/build-exe.mjs).
// A rejection is unhandled here, so the thread exits with an error that check reports.
void runLeafCheckJob(workerData as LeafCheckJob).then((verdicts) => parentPort?.postMessage(verdicts));
