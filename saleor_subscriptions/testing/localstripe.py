"""Run localstripe (a stateful fake Stripe) on a free local port for tests and the demo."""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Optional


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStripe:
    """`state_file`: keep the state there across restarts (as the demo does); None: start from
    scratch and save nothing."""

    def __init__(self, port: int = 0, state_file: Optional[str] = None):
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.state_file = state_file
        self.process = None

    def start(self, timeout: float = 30.0) -> "LocalStripe":
        log = tempfile.NamedTemporaryFile(prefix="localstripe-", suffix=".log", delete=False)
        # Through our launcher: localstripe itself shares /tmp/localstripe.pickle machine-wide.
        state = ["--state", self.state_file] if self.state_file else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "saleor_subscriptions.testing.localstripe_server",
             "--port", str(self.port)] + state,
            stdout=log, stderr=subprocess.STDOUT, cwd=tempfile.mkdtemp(prefix="localstripe-"),
            env=dict(os.environ),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited; see {log.name}")
            try:
                urllib.request.urlopen(self.url + "/v1/customers?limit=1", timeout=1)
                return self
            except urllib.error.HTTPError:
                return self  # it answers (401 without a key): it is up
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"localstripe did not start on {self.url}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
