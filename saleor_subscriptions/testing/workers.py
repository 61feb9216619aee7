"""Real Celery worker processes for tests: on the test database, a queue of their own."""
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, Optional, Sequence

from celery import Celery

TASK = "saleor_subscriptions.tasks.renew_due_subscriptions_task"


def database_url(settings_dict) -> str:
    return "postgres://%s@%s:%s/%s" % (
        settings_dict["USER"] or "postgres", settings_dict["HOST"] or "127.0.0.1",
        settings_dict["PORT"] or 5432, settings_dict["NAME"])


class Worker:
    def __init__(self, queue: str, broker: str, database: str, name: str,
                 extra_env: Optional[Dict[str, str]] = None, concurrency: int = 1,
                 also_queues: Sequence[str] = ()):
        """also_queues: more queues to consume, e.g. "celery" for tasks queued with .delay()
        (e-mails sent after a commit)."""
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": database, "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DJANGO_SETTINGS_MODULE": "saleor_subscriptions.host.settings",
        })
        env.update(extra_env or {})
        self.log = tempfile.NamedTemporaryFile(prefix="worker-%s-" % name, suffix=".log",
                                               delete=False).name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "saleor.celeryconf:app", "worker",
             "-Q", ",".join([queue, *also_queues]), "-c", str(concurrency), "-l", "info",
             "-n", "%s-%s@%%h" % (queue, name),
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        with open(self.log) as log:
            return log.read()

    def wait_ready(self, timeout: float = 60) -> "Worker":
        deadline = time.monotonic() + timeout
        while "ready." not in self.output():
            if self.process.poll() is not None:
                raise RuntimeError(self.output()[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError("worker did not start: " + self.output()[-3000:])
            time.sleep(0.3)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: a crash, not a shutdown."""
        subprocess.run(["pkill", "-KILL", "-P", str(self.process.pid)], check=False)
        self.process.kill()
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Sender:
    """Sends tasks through an explicit connection: Celery prefers the CELERY_BROKER_URL
    environment variable over broker=."""

    def __init__(self, broker: str, queue: str):
        self.app = Celery("subscriptions-tests")
        self.connection = self.app.connection(broker)
        self.queue = queue

    def renew_due(self, **kwargs) -> None:
        self.app.send_task(TASK, kwargs=kwargs, queue=self.queue, connection=self.connection)

    def close(self) -> None:
        self.connection.release()
        self.app.close()
