// jsforce, unchanged, against a running swell: node jsforce.mjs BASE_URL TOKEN
// Exits 0 when every step behaves as against an org; prints what failed otherwise.
import jsforce from "jsforce";

const [base, token] = process.argv.slice(2);
const conn = new jsforce.Connection({ instanceUrl: base, accessToken: token, version: "62.0" });
const wave = "/services/data/v62.0/wave";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function check(cond, what) {
  if (!cond) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
}

const versions = await conn.request("/services/data/");
check(Array.isArray(versions) && versions.at(-1).version === "66.0", "GET /services/data/ lists versions up to 66.0");

const flows = await conn.request(`${wave}/dataflows`);
const demo = flows.dataflows.find((d) => d.name === "Demo_Opportunities");
check(demo && demo.id.startsWith("02K"), "the demo dataflow is listed");

// wait until the demo's own first run is over, so a start queues a fresh job
for (let i = 0; i < 200; i++) {
  const q = await conn.request(`${wave}/dataflowjobs?dataflowId=${demo.id}&status=Queued`);
  const r = await conn.request(`${wave}/dataflowjobs?dataflowId=${demo.id}&status=Running`);
  if (q.totalSize === 0 && r.totalSize === 0) break;
  await sleep(50);
}
const job = await conn.requestPost(`${wave}/dataflowjobs`, { dataflowId: demo.id, command: "start" });
check(job.status === "Queued" && job.id.startsWith("03C"), `POST start queues a job (${JSON.stringify(job)})`);
let status = job.status;
for (let i = 0; i < 200 && !["Success", "Failure"].includes(status); i++) {
  await sleep(50);
  status = (await conn.request(`${wave}/dataflowjobs/${job.id}`)).status;
}
check(status === "Success", `the job succeeds (${status})`);
const nodes = await conn.request(`${wave}/dataflowjobs/${job.id}/nodes`);
check(nodes.nodes.length === 7 && nodes.nodes.every((n) => n.status === "success"), "seven successful nodes");
const node = await conn.request(`${wave}/dataflowjobs/${job.id}/nodes/${nodes.nodes[0].id}`);
check(node.name === nodes.nodes[0].name, "GET one node");

try {
  await conn.requestPatch(`${wave}/dataflowjobs/${job.id}`, { command: "stop" });
  check(false, "stopping a finished job is refused");
} catch (e) {
  check(e.errorCode === "INVALID_STATE" || e.name === "INVALID_STATE", `stop of a finished job: ${e.name} ${e.message}`);
}
try {
  await conn.request(`${wave}/datasets/NoSuchDataset`);
  check(false, "an unknown dataset is a 404");
} catch (e) {
  check(e.errorCode === "NOT_FOUND" || e.name === "NOT_FOUND", `unknown dataset: ${e.name}`);
}
const ds = await conn.request(`${wave}/datasets/Demo_Opportunities/versions`);
check(ds.versions.length >= 2, "two runs made two versions");

// Sync Data Connections: Run Now on the local connection, once the demo's own sync is queued no more
const conns = await conn.request(`${wave}/dataConnectors`);
const local = conns.dataConnectors.find((c) => c.name === "SFDC_LOCAL");
check(local && local.id.startsWith("0It") && local.connectorType === "SfdcLocal", "SFDC_LOCAL is listed");
for (let i = 0; i < 200; i++) {
  const q = await conn.request(`${wave}/dataflowjobs?jobTypes=datasync&status=Queued`);
  if (q.totalSize === 0) break;
  await sleep(50);
}
const ingest = await conn.requestPost(`${wave}/dataConnectors/SFDC_LOCAL/ingest`, {});
check(ingest.message === `Sync request was sent for connection ${local.id}.`, `ingest answers (${JSON.stringify(ingest)})`);
check(ingest.url === `${wave}/dataflowjobs`, "ingest points at the jobs");
let syncs;
for (let i = 0; i < 200; i++) {
  syncs = await conn.request(`${wave}/dataflowjobs?jobTypes=datasync`);
  if (syncs.dataflowJobs.every((j) => !["Queued", "Running"].includes(j.status))) break;
  await sleep(50);
}
check(syncs.dataflowJobs.length >= 2 && syncs.dataflowJobs.every((j) => j.status === "Success"), "the syncs succeed");
const objects = await conn.request(`${wave}/replicatedDatasets?connector=SFDC_LOCAL`);
check(objects.replicatedDatasets.length === 4, "four connected objects");
console.log("jsforce: all steps passed");
