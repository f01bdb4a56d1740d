"""Celery tasks of the end-to-end test (tests/frameworks_test.go): the
broker and the result backend are schemaproxy's database 1, at the port
in E2E_PORT."""
import os

from celery import Celery

url = "redis://127.0.0.1:%s/1" % os.environ["E2E_PORT"]
app = Celery("e2e_tasks", broker=url, backend=url)
app.conf.update(
    broker_connection_retry_on_startup=True,
    task_acks_late=True,
    result_expires=3600,
)


@app.task
def add(a, b):
    return a + b


@app.task
def tsum(values):
    return sum(values)


@app.task(bind=True, max_retries=5)
def flaky(self, key):
    """Fails until it has run three times, counting runs in key."""
    n = app.backend.client.incr(key)
    if n < 3:
        raise self.retry(countdown=0.1)
    return n


@app.task
def fail():
    raise ValueError("boom")
