// A registry on 127.0.0.1 for goal 6 of `npm run bench`: it serves several tarballs of the same
// package name, one per path prefix (`--registry http://127.0.0.1:PORT/<kind>/`), with the
// packument a registry gives (the tarball's package.json, its sha512 integrity and its URL), and
// redirects every other package to the upstream registry. It runs in a worker thread: the bench
// times npm with spawnSync, which blocks the main thread's event loop.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

/** Starts the registry; `url(kind)` is the --registry value that serves tarballs[kind] as `name`. */
export async function startRegistry({ name, tarballs, upstream }) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { name, tarballs, upstream } });
  const port = await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    url: (kind) => `http://127.0.0.1:${port}/${kind}/`,
    close: () => worker.terminate(),
  };
}

if (!isMainThread && workerData?.tarballs) {
  const { name, tarballs, upstream } = workerData;
  const served = {};
  for (const [kind, file] of Object.entries(tarballs)) {
    const data = readFileSync(file);
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", file, "package/package.json"], { encoding: "utf8" }));
    if (manifest.name !== name) throw new Error(`${file}: package ${manifest.name}, not ${name}`);
    served[kind] = { data, manifest };
  }
  const tarballPath = (version) => `${encodeURIComponent(name)}/-/${name}-${version}.tgz`;
  const server = createServer((req, res) => {
    const [, kind, ...rest] = req.url.split("/");
    const path = rest.join("/");
    const pkg = served[kind];
    if (pkg && path === encodeURIComponent(name)) {
      const { manifest, data } = pkg;
      const dist = {
        tarball: `http://127.0.0.1:${server.address().port}/${kind}/${tarballPath(manifest.version)}`,
        integrity: `sha512-${createHash("sha512").update(data).digest("base64")}`,
        shasum: createHash("sha1").update(data).digest("hex"),
      };
      const version = { ...manifest, _id: `${name}@${manifest.version}`, _hasShrinkwrap: false, dist };
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({ name, "dist-tags": { latest: manifest.version }, versions: { [manifest.version]: version } }),
      );
    } else if (pkg && path === tarballPath(pkg.manifest.version)) {
      res.setHeader("content-type", "application/octet-stream");
      res.end(pkg.data);
    } else {
      // Another package (the unbundled one's dependencies), or its tarball: npm rewrites the
      // upstream registry's tarball URLs to --registry, so both arrive here.
      res.statusCode = 302;
      res.setHeader("location", new URL(path, upstream.endsWith("/") ? upstream : `${upstream}/`).href);
      res.end();
    }
  });
  server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
}
