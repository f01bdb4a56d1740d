"""RQ end to end: enqueue jobs, run the worker, check every job ran as planned.

Usage: rq_e2e.py PORT enqueue|check N. Queues live in database 1.
"""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from redis import Redis  # noqa: E402
from rq import Queue, Retry  # noqa: E402
from rq.job import Job  # noqa: E402

import jobs  # noqa: E402

port, action, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = Redis(host="127.0.0.1", port=port, db=1)
q = Queue("default", connection=conn)
plan_key = "e2e:plan"

if action == "enqueue":
    adds = [q.enqueue(jobs.add, i, i).id for i in range(n)]
    flaky = q.enqueue(jobs.flaky, "e2e:flaky", retry=Retry(max=3)).id
    failing = q.enqueue(jobs.fail).id
    first = q.enqueue(jobs.add, 1, 2)
    second = q.enqueue(jobs.add, 3, 4)
    chained = q.enqueue(jobs.total, first.id, second.id, depends_on=[first, second]).id
    delayed = q.enqueue_in(datetime.timedelta(seconds=1), jobs.add, 20, 22).id
    conn.set(plan_key, json.dumps(dict(adds=adds, flaky=flaky, failing=failing, chained=chained, delayed=delayed)))
    print("enqueued", n + 6)
    sys.exit(0)

plan = json.loads(conn.get(plan_key))
problems = []


def expect(job_id, status, result=None):
    job = Job.fetch(job_id, connection=conn)
    got = job.get_status()
    if got != status:
        problems.append("job %s (%s): status %s, want %s" % (job_id, job.func_name, got, status))
    elif result is not None and job.result != result:
        problems.append("job %s (%s): result %r, want %r" % (job_id, job.func_name, job.result, result))
    return job


if action == "done":
    # Exit 0 once every job has ended (the worker loop stops then).
    ids = plan["adds"] + [plan["flaky"], plan["failing"], plan["chained"], plan["delayed"]]
    ended = sum(1 for i in ids if Job.fetch(i, connection=conn).get_status() in ("finished", "failed"))
    print("ended", ended, "of", len(ids))
    sys.exit(0 if ended == len(ids) else 1)

for i, job_id in enumerate(plan["adds"]):
    expect(job_id, "finished", 2 * i)
expect(plan["flaky"], "finished", 3)
if int(conn.get("e2e:flaky")) != 3:
    problems.append("the flaky job ran %s times, want 3" % conn.get("e2e:flaky"))
job = expect(plan["failing"], "failed")
if "boom" not in (job.exc_info or ""):
    problems.append("the failing job's exc_info: %r" % job.exc_info)
expect(plan["chained"], "finished", 10)
expect(plan["delayed"], "finished", 42)
if q.count != 0:
    problems.append("%d jobs left in the queue" % q.count)
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok")
