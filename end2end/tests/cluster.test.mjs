// The Kubernetes backend through the UI: a run the fabrik CLI made in the cluster (a Job
// in kmock's emulator, its volume holding a real Smithers 0.12 DB) shows its gate on its
// page, read from the server's copy of that DB.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { launchBrowser, open, ROOT, shot, signedInPage, startServer } from "../harness.mjs";

const RUN = "e564f07e-6050-4c1e-98f9-0c015e0a392e";
const ctx = {};

async function startEmulator() {
  const child = spawn(join(ROOT, ".tools/py/bin/python"), [join(ROOT, "server/tests/helpers/kube_emulator.py")], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [url] = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
  return { url, stop: () => child.kill() };
}

before(async () => {
  ctx.emulator = await startEmulator();
  const emu = ctx.emulator.url;
  const job = {
    apiVersion: "batch/v1", kind: "Job",
    metadata: { name: `fabrik-${RUN}`, namespace: "fabrik-runs",
      labels: { "fabrik.sh/run-id": RUN, "fabrik.sh/managed-by": "fabrik", "fabrik.sh/spec": "approval", "fabrik.sh/project": "hoth" },
      annotations: { "fabrik.sh/started-at": "2026-03-12T10:00:05Z", "fabrik.sh/finished-at": "2026-03-12T10:20:41Z",
        "fabrik.sh/outcome": "failed" } },
    spec: { template: { spec: { containers: [{ name: "fabrik", image: "x" }], restartPolicy: "Never" } } },
    status: { conditions: [{ type: "Failed", status: "True" }], failed: 1 },
  };
  const node = {
    apiVersion: "v1", kind: "Node", metadata: { name: "k3s-server-1" },
    status: { capacity: { cpu: "8", memory: "32Gi", "ephemeral-storage": "200Gi" },
      allocatable: { cpu: "7800m", memory: "31Gi", "ephemeral-storage": "190Gi" },
      conditions: [{ type: "Ready", status: "True" }] },
  };
  const usage = { apiVersion: "metrics.k8s.io/v1beta1", kind: "NodeMetrics", metadata: { name: "k3s-server-1" },
    usage: { cpu: "2100m", memory: "12Gi" } };
  const storage = { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", provisioner: "rancher.io/local-path",
    metadata: { name: "local-path", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    reclaimPolicy: "Delete" };
  for (const [path, object] of [["/apis/batch/v1/namespaces/fabrik-runs/jobs", job], ["/api/v1/nodes", node],
    ["/apis/metrics.k8s.io/v1beta1/nodes", usage], ["/apis/storage.k8s.io/v1/storageclasses", storage]]) {
    const created = await fetch(`${emu}${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(object),
    });
    assert.ok(created.ok, `creating ${object.kind}: ${created.status}`);
  }
  const volume = mkdtempSync(join(tmpdir(), "fabrik-volume-"));
  mkdirSync(join(volume, ".smithers"));
  copyFileSync(join(ROOT, "smithers/tests/fixtures/approval.db"), join(volume, ".smithers/state.db"));
  const attached = await fetch(`${emu}/_emulator/volumes/data-fabrik-${RUN}`, { method: "POST", body: volume });
  assert.equal(attached.status, 204);
  const kubeconfig = join(volume, "..", `kubeconfig-${RUN}.yaml`);
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "${emu}"}
  name: emu
contexts:
- context: {cluster: emu, user: u, namespace: fabrik-runs}
  name: emu
current-context: emu
users:
- name: u
  user: {token: test}
`);
  ctx.server = await startServer({
    env: { FABRIK_KUBECONFIG: kubeconfig, FABRIK_KUBE_IMAGE: "registry.example/runner@sha256:0" },
  });
  ctx.browser = await launchBrowser();
});

after(async () => {
  await ctx.browser?.close();
  ctx.server?.stop();
  ctx.emulator?.stop();
});

test("a CLI-made run's page shows its gate from the DB on its volume", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base, { viewport: { width: 1280, height: 900 } });
  await open(page, `${ctx.server.base}/runs`);
  await page.getByTestId(`run-row-${RUN}`).waitFor({ timeout: 30_000 });
  await shot(page, "50-kube-runs");
  // Opening the page starts the copy from the volume; a copy landing before the page's
  // live stream opens is not pushed to it (see the closing note), so look again.
  for (let i = 0; ; i++) {
    await open(page, `${ctx.server.base}/runs/${RUN}`);
    if (await page.getByTestId("feedback-link").isVisible()) break;
    assert.ok(i < 30, "the gate never showed");
    await new Promise((r) => setTimeout(r, 1000));
  }
  const text = await page.locator("main").innerText();
  assert.match(text, /Waiting for a decision/);
  assert.match(text, /ApprovalRequested/);
  assert.match(text, /decide its gate with `smithers approve\|deny` in its pod/);
  assert.equal(await page.getByTestId("resume-button").count(), 0);
  // Its review page says the same, and offers no decision.
  await open(page, `${ctx.server.base}/runs/${RUN}/feedback`);
  const denied = page.getByTestId("decide-denied");
  await denied.waitFor();
  assert.match(await denied.innerText(), /fabrik CLI/);
  assert.ok(await page.getByTestId("approve-button").isDisabled());
  await shot(page, "53-kube-cli-run-feedback");
  await shot(page, "51-kube-cli-run-at-gate");
});

test("the cluster page shows the nodes with their usage and the storage classes", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base, { viewport: { width: 1280, height: 900 } });
  await open(page, `${ctx.server.base}/admin/cluster`);
  const node = page.locator('[data-testid="machine"][data-name="k3s-server-1"]');
  await node.waitFor();
  assert.match(await node.getByTestId("meter-cpu").innerText(), /2\.1 cores of 7\.8 cores\s*27%/);
  assert.match(await node.getByTestId("meter-memory").innerText(), /12\.0 GiB of 31\.0 GiB/);
  assert.match(await page.getByTestId("storage-classes").innerText(), /local-path\s*default/);
  await shot(page, "52-kube-admin-cluster");
});
