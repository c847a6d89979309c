"""A release `swell serve` on a temporary data dir, and a JSON client for its Wave API
(shared by the benchmark scripts)."""
import json
import os
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWELL = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "swell")
TOKEN = "bench-token"


class Server:
    def __init__(self, version="v66.0"):
        self.work = tempfile.mkdtemp()
        env = dict(os.environ, SWELL_API_TOKEN=TOKEN, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self.log = open(os.path.join(self.work, "log"), "w+")
        self.proc = subprocess.Popen(
            [SWELL, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.work, "data")],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        base = None
        for _ in range(400):
            self.log.seek(0)
            for line in self.log.read().splitlines():
                if line.startswith("listening on "):
                    base = line.split()[-1]
            if base:
                break
            time.sleep(0.05)
        if not base:
            self.close()
            raise RuntimeError("swell serve did not start; log: " + open(os.path.join(self.work, "log")).read())
        self.api = base + f"/services/data/{version}/wave"
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json",
                        "X-Chatter-Entity-Encoding": "false"}

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.api + path, method=method, headers=self.headers, data=data)
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            return json.loads(raw) if raw else None

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        self.proc.terminate()
        self.proc.wait()
