/** A worker thread of `check` on a big tree: checks one slice of the leaves (check.ts). */
import { parentPort, workerData } from "node:worker_threads";
import { runLeafCheckJob, type LeafCheckJob } from "./check.js";

parentPort?.postMessage(await runLeafCheckJob(workerData as LeafCheckJob));
