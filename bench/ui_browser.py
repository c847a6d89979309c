"""DOMContentLoaded of Data Manager's pages in a real Chromium (issue 16's budget: 300 ms).

    python3 bench/ui_browser.py BASE COOKIE PATH...

Drives Debian's chromedriver over its plain HTTP protocol (no client library to install):
signs the browser in with the session cookie of bench/ui.sh, loads each page five times and
prints the median and worst time from the start of navigation to the end of
DOMContentLoaded, as the browser's own Navigation Timing reports it.
"""

import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(driver, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(driver + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["value"]


def main():
    base, cookie, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    name, _, value = cookie.partition("=")
    port = free_port()
    proc = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                call(driver, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}}
        session = call(driver, "POST", "/session", caps)["sessionId"]
        s = f"/session/{session}"
        # a cookie is set on the page of its own site; Path=/ui as the server sets it
        call(driver, "POST", f"{s}/url", {"url": base + "/ui/login"})
        call(driver, "POST", f"{s}/cookie", {"cookie": {"name": name, "value": value, "path": "/ui", "httpOnly": True}})
        timing = "const n = performance.getEntriesByType('navigation')[0]; return n.domContentLoadedEventEnd - n.startTime;"
        worst = 0.0
        for path in paths:
            times = []
            for _ in range(5):
                call(driver, "POST", f"{s}/url", {"url": base + path})
                times.append(call(driver, "POST", f"{s}/execute/sync", {"script": timing, "args": []}))
            worst = max(worst, max(times))
            print(f"  {path}: median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms")
        print(f"  worst of all pages: {worst:.0f} ms")
        call(driver, "DELETE", s)
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
