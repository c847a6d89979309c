"""simple-salesforce, unchanged, against a running swell over HTTPS:
python simple_salesforce_test.py https://HOST:PORT TOKEN   (REQUESTS_CA_BUNDLE=the server's cert.pem)

simple-salesforce keeps only host and port of instance_url and always speaks https, so swell
serves it with --tls-self-signed (or --tls-cert/--tls-key). Exits 0 when every step behaves as
against an org.
"""
import sys
import time

from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

base, token = sys.argv[1], sys.argv[2]
sf = Salesforce(instance_url=base, session_id=token, version="62.0")


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


flows = sf.restful("wave/dataflows")
demo = next(d for d in flows["dataflows"] if d["name"] == "Demo_Opportunities")
for _ in range(200):
    queued = sf.restful("wave/dataflowjobs", params={"dataflowId": demo["id"], "status": "Queued"})
    running = sf.restful("wave/dataflowjobs", params={"dataflowId": demo["id"], "status": "Running"})
    if queued["totalSize"] == 0 and running["totalSize"] == 0:
        break
    time.sleep(0.05)
job = sf.restful("wave/dataflowjobs", method="POST", json={"dataflowId": demo["id"], "command": "start"})
check(job["status"] == "Queued" and job["id"].startswith("03C"), f"POST start queues a job: {job}")
status = job["status"]
for _ in range(200):
    status = sf.restful(f"wave/dataflowjobs/{job['id']}")["status"]
    if status not in ("Queued", "Running"):
        break
    time.sleep(0.05)
check(status == "Success", f"the job succeeds ({status})")
nodes = sf.restful(f"wave/dataflowjobs/{job['id']}/nodes")["nodes"]
check(all(n["status"] == "success" for n in nodes), "every node succeeded")
node = sf.restful(f"wave/dataflowjobs/{job['id']}/nodes/{nodes[0]['id']}")
check(node["name"] == nodes[0]["name"], "GET one node")
try:
    sf.restful(f"wave/dataflowjobs/{job['id']}", method="PATCH", json={"command": "stop"})
    check(False, "stopping a finished job is refused")
except SalesforceMalformedRequest as e:
    check(e.content[0]["errorCode"] == "INVALID_STATE", f"stop of a finished job: {e.content}")

schedule = f"wave/asset/{demo['id']}/schedule"
body = {"frequency": "monthly", "daysOfMonth": [-1], "time": {"hour": 23, "minute": 30, "timeZone": "Australia/Sydney"}}
put = sf.restful(schedule, method="PUT", json=body)
check(put["frequency"] == "monthly" and put["assetId"] == demo["id"], f"PUT schedule answers the schedule: {put}")
got = sf.restful(schedule)
check(got["frequency"] == "monthly" and got["daysOfMonth"] == [-1], f"GET schedule: {got}")
check(got["nextScheduledDate"].endswith(".000Z"), "nextScheduledDate in UTC")
check(sf.restful(schedule, method="DELETE") is None, "DELETE schedule answers 204")

try:
    sf.restful("wave/datasets/NoSuchDataset")
    check(False, "an unknown dataset is a 404")
except SalesforceResourceNotFound as e:
    check(e.content[0]["errorCode"] == "NOT_FOUND", f"404 body: {e.content}")

org = sf.query("SELECT Name, OrganizationType FROM Organization")
check(org["totalSize"] == 1 and org["records"][0]["Name"] == "swell", f"SOQL on Organization: {org}")
# Sync Data Connections: Run Now with no body (Content-Length: 0), once the demo's own sync is queued no more
for _ in range(200):
    if sf.restful("wave/dataflowjobs", params={"jobTypes": "datasync", "status": "Queued"})["totalSize"] == 0:
        break
    time.sleep(0.05)
ingest = sf.restful("wave/dataConnectors/SFDC_LOCAL/ingest", method="POST")
check(ingest["message"].startswith("Sync request was sent for connection 0It"), f"ingest answers: {ingest}")
print("simple-salesforce: all steps passed")
