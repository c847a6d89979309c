// jsforce signs in with a username and password, unchanged: once through the OAuth2
// password flow (an oauth2 client configured, loginUrl pointed at swell), once through the
// SOAP login it uses without a client id. node jsforce_login.mjs BASE_URL USERNAME PASSWORD
// The user is an operator: may start a job, may not create a dataflow.
import jsforce from "jsforce";

const [base, username, password] = process.argv.slice(2);
const wave = "/services/data/v62.0/wave";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function check(cond, what) {
  if (!cond) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
}

// 1. OAuth2 username-password flow
const oauth = new jsforce.Connection({
  oauth2: { loginUrl: base, clientId: "swell-test-client", clientSecret: "swell-test-secret", redirectUri: "http://localhost/cb" },
  version: "62.0",
});
const info = await oauth.login(username, password);
check(info.id.startsWith("005") && info.organizationId.startsWith("00D"), `OAuth2 login names the user and org (${JSON.stringify(info)})`);
check(oauth.instanceUrl === base, `instance_url is the server (${oauth.instanceUrl})`);
const flows = await oauth.request(`${wave}/dataflows`);
const demo = flows.dataflows.find((d) => d.name === "Demo_Opportunities");
check(demo, "an operator lists dataflows");
for (let i = 0; i < 200; i++) {
  const q = await oauth.request(`${wave}/dataflowjobs?dataflowId=${demo.id}&status=Queued`);
  const r = await oauth.request(`${wave}/dataflowjobs?dataflowId=${demo.id}&status=Running`);
  if (q.totalSize === 0 && r.totalSize === 0) break;
  await sleep(50);
}
const job = await oauth.requestPost(`${wave}/dataflowjobs`, { dataflowId: demo.id, command: "start" });
check(job.status === "Queued", `an operator starts a job (${JSON.stringify(job)})`);
let refused = null;
try {
  await oauth.requestPost(`${wave}/dataflows`, { name: "Not_Allowed" });
} catch (e) {
  refused = e;
}
check(refused && refused.errorCode === "INSUFFICIENT_ACCESS", `an operator may not create a dataflow (${refused})`);
// logging out revokes the session token: it no longer reads
const revoked = oauth.accessToken;
await oauth.logout();
let gone = null;
try {
  await new jsforce.Connection({ instanceUrl: base, accessToken: revoked, version: "62.0" }).request(`${wave}/dataflows`);
} catch (e) {
  gone = e;
}
check(gone && gone.errorCode === "INVALID_SESSION_ID", `a logged-out token stops (${gone})`);

// 2. SOAP login (no client id)
const soap = new jsforce.Connection({ loginUrl: base, version: "62.0" });
const soapInfo = await soap.login(username, password);
check(soapInfo.id === info.id, `SOAP login names the same user (${JSON.stringify(soapInfo)})`);
check(soap.accessToken.startsWith("00D") && soap.instanceUrl === base, `SOAP login gives a session on the server (${soap.instanceUrl})`);
const again = await soap.request(`${wave}/dataflows`);
check(again.dataflows.length > 0, "the SOAP session reads");
let wrong = null;
try {
  await new jsforce.Connection({ loginUrl: base, version: "62.0" }).login(username, "not-the-password");
} catch (e) {
  wrong = e;
}
check(wrong && /INVALID_LOGIN/.test(String(wrong.message)), `a wrong password is INVALID_LOGIN (${wrong})`);
console.log("jsforce login: all steps passed");
