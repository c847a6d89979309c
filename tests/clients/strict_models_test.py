"""Strict client models against swell: pydantic models of the Wave representations, written
from the field tables of the org's documentation (../shared/spec/wave-api.md), with strict
types (no coercion: a number sent as a string fails) and the fields real orgs return
required. A client built this way parses an org's answers; it must parse swell's.

Usage: python strict_models_test.py BASE_URL TOKEN   (driven by crates/swell/tests/cli.rs)
"""

import json
import sys
import urllib.request
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr


class Model(BaseModel):
    # fields the models do not name are allowed (orgs add fields every release)
    model_config = ConfigDict(strict=True, extra="allow")


class WaveUser(Model):
    id: StrictStr
    name: StrictStr
    profilePhotoUrl: StrictStr


class Permissions(Model):
    create: StrictBool
    manage: StrictBool
    modify: StrictBool
    view: StrictBool


class AssetReference(Model):
    id: StrictStr
    url: Optional[StrictStr] = None
    name: Optional[StrictStr] = None


class BaseAsset(Model):
    id: StrictStr
    type: StrictStr
    url: StrictStr
    label: StrictStr
    name: StrictStr
    namespace: StrictStr
    createdBy: WaveUser
    createdDate: StrictStr
    lastModifiedBy: WaveUser
    lastModifiedDate: StrictStr
    permissions: Permissions
    description: Optional[StrictStr] = None


class TimeZone(Model):
    gmtOffset: StrictFloat | StrictInt
    name: StrictStr
    zoneId: StrictStr


class Time(Model):
    hour: StrictInt
    minute: StrictInt
    timeZone: TimeZone


class Schedule(Model):
    assetId: StrictStr
    frequency: Literal["none", "minutely", "hourly", "daily", "weekly", "monthly", "monthlyrelative", "eventdriven"]
    notificationLevel: Literal["always", "failures", "never", "warnings"]
    nextScheduledDate: Optional[StrictStr] = None
    time: Optional[Time] = None
    daysOfWeek: Optional[list[StrictStr]] = None
    daysOfMonth: Optional[list[StrictInt]] = None
    hourlyInterval: Optional[StrictInt] = None
    minutelyInterval: Optional[StrictInt] = None
    lastHour: Optional[StrictInt] = None
    weekInMonth: Optional[StrictStr] = None
    dayInWeek: Optional[StrictStr] = None
    triggerRule: Optional[StrictStr] = None


class Dataflow(BaseAsset):
    type: Literal["dataflow"]
    definition: dict[str, Any]
    emailNotificationLevel: StrictStr
    historiesUrl: StrictStr
    nextScheduledDate: Optional[StrictStr] = None
    # a serialized JSON text, not an object
    scheduleAttributes: Optional[StrictStr] = None


class DataflowJob(Model):
    id: StrictStr
    type: Literal["dataflowjob"]
    url: StrictStr
    label: StrictStr
    status: Literal["Queued", "Running", "Success", "Warning", "Failure", "Cancelled"]
    jobType: Literal["user", "datasync", "recipe_v3"]
    progress: StrictFloat | StrictInt
    createdDate: StrictStr
    startDate: StrictStr
    executedDate: Optional[StrictStr] = None
    endDate: Optional[StrictStr] = None
    duration: Optional[StrictInt] = None
    waitTime: Optional[StrictInt] = None
    retryCount: StrictInt
    message: Optional[StrictStr] = None
    nodesUrl: StrictStr
    source: AssetReference
    syncDataflows: dict[str, list[AssetReference]]
    licenseAttributes: dict[str, StrictStr]


class NodeRowCount(Model):
    processedCount: Optional[StrictInt] = None
    failedCount: Optional[StrictInt] = None


class DataflowJobNode(Model):
    id: StrictStr
    type: Literal["dataflowjobnode"]
    name: StrictStr
    label: StrictStr
    nodeType: StrictStr
    status: Literal["aborted", "error", "pending", "running", "success", "warning"]
    startDate: Optional[StrictStr] = None
    duration: StrictInt
    inputRows: NodeRowCount
    outputRows: NodeRowCount
    message: StrictStr
    url: StrictStr


class ValidationDetail(Model):
    message: StrictStr
    nodeName: StrictStr
    nodeType: StrictStr
    severity: Literal["Error", "Fatal", "Warning"]


class Recipe(BaseAsset):
    type: Literal["recipe"]
    targetDataflowId: StrictStr
    format: Literal["R2", "R3"]
    recipeDefinition: Optional[dict[str, Any]] = None
    scheduleAttributes: Schedule
    scheduleType: Optional[Literal["timedriven", "eventdriven"]] = None
    status: Literal["Failure", "New", "Queued", "Running", "Success", "Warning"]
    conversionDetails: list[dict[str, Any]]
    validationDetails: list[ValidationDetail]
    fileUrl: StrictStr
    historiesUrl: StrictStr
    publishingTarget: StrictStr
    licenseAttributes: dict[str, StrictStr]


class ConnectionProperty(Model):
    name: StrictStr
    value: StrictStr


class DataConnector(BaseAsset):
    type: Literal["dataconnector"]
    connectorType: StrictStr
    connectorHandler: Literal["Base", "Legacy"]
    connectionProperties: list[ConnectionProperty]
    ingestionSchedule: Schedule


class ReplicatedDataset(BaseAsset):
    type: Literal["replicateddataset"]
    sourceObjectName: StrictStr
    connector: DataConnector
    connectionMode: StrictStr
    supportedConnectionModes: list[StrictStr]
    filterApplied: StrictBool
    fieldsUrl: StrictStr
    fieldCount: StrictInt
    replicationDataflowId: StrictStr
    rowLevelSharing: StrictBool
    advancedProperties: list[dict[str, Any]]
    status: StrictStr
    uuid: StrictStr
    passThroughFilter: Optional[StrictStr] = None
    lastRefreshedDate: Optional[StrictStr] = None


class Dataset(BaseAsset):
    type: Literal["dataset"]
    datasetType: Literal["default", "live", "stagedData", "trended"]
    visibility: Literal["All", "Limited"]
    versionsUrl: StrictStr
    currentVersionId: Optional[StrictStr] = None
    currentVersionUrl: Optional[StrictStr] = None


class DatasetVersion(Model):
    id: StrictStr
    type: Literal["datasetversion"]
    url: StrictStr
    dataset: AssetReference
    totalRowCount: StrictInt
    createdBy: WaveUser
    createdDate: StrictStr


class Paged(Model):
    url: StrictStr
    nextPageUrl: Optional[StrictStr]
    totalSize: StrictInt


def main() -> None:
    base, token = sys.argv[1], sys.argv[2]
    api = f"{base}/services/data/v66.0/wave"

    def get(path: str) -> Any:
        req = urllib.request.Request(api + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    checked = 0

    def check(model: type[Model], value: Any, what: str) -> None:
        nonlocal checked
        try:
            model.model_validate(value)
        except Exception as e:  # a pydantic ValidationError names every field that failed
            raise SystemExit(f"{what} does not parse as {model.__name__}:\n{e}")
        checked += 1

    flows = get("/dataflows")["dataflows"]
    assert flows, "the demo has a dataflow"
    for f in flows:
        check(Dataflow, get(f"/dataflows/{f['id']}"), f"dataflow {f['id']}")
        check(Schedule, get(f"/asset/{f['id']}/schedule"), f"schedule of {f['id']}")
    jobs = get("/dataflowjobs")
    check(Paged, jobs, "the job list")
    for j in jobs["dataflowJobs"]:
        check(DataflowJob, j, f"job {j['id']}")
        for n in get(f"/dataflowjobs/{j['id']}/nodes")["nodes"]:
            check(DataflowJobNode, n, f"node {n['id']}")
    recipes = get("/recipes")
    check(Paged, recipes, "the recipe list")
    for r in recipes["recipes"]:
        check(Recipe, get(f"/recipes/{r['id']}"), f"recipe {r['id']}")
    for c in get("/dataConnectors")["dataConnectors"]:
        check(DataConnector, c, f"connection {c['id']}")
    for o in get("/replicatedDatasets")["replicatedDatasets"]:
        check(ReplicatedDataset, o, f"connected object {o['id']}")
    datasets = get("/datasets")
    check(Paged, datasets, "the dataset list")
    for d in datasets["datasets"]:
        check(Dataset, d, f"dataset {d['id']}")
        for v in get(f"/datasets/{d['id']}/versions")["versions"]:
            check(DatasetVersion, v, f"version {v['id']}")
    print(f"strict models: {checked} representations parsed")


if __name__ == "__main__":
    main()
