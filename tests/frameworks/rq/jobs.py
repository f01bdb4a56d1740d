"""Jobs the RQ end-to-end test runs (tests/frameworks_test.go)."""
from rq import get_current_job


def add(a, b):
    return a + b


def flaky(key):
    """Fails until it has run three times, counting runs in key."""
    job = get_current_job()
    n = job.connection.incr(key)
    if n < 3:
        raise RuntimeError("flaky run %d" % n)
    return n


def fail():
    raise ValueError("boom")


def total(*job_ids):
    """Sums the results of the jobs it depends on."""
    from rq.job import Job
    job = get_current_job()
    return sum(Job.fetch(i, connection=job.connection).result for i in job_ids)
