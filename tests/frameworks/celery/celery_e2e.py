"""Celery end to end: send tasks, wait for every result, check each.

Usage: E2E_PORT=port celery_e2e.py N (a worker must be running).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from celery import chain, chord, group  # noqa: E402

from e2e_tasks import add, app, fail, flaky, tsum  # noqa: E402

n = int(sys.argv[1])
timeout = 60
problems = []

app.backend.client.delete("e2e:flaky")
adds = [add.delay(i, i) for i in range(n)]
flaky_r = flaky.delay("e2e:flaky")
fail_r = fail.delay()
chain_r = chain(add.s(1, 2), add.s(3), add.s(4)).delay()
delayed_r = add.apply_async((20, 22), countdown=1)
group_r = group(add.s(i, 1) for i in range(10)).delay()
chord_r = chord((add.s(i, i) for i in range(10)), tsum.s()).delay()

for i, r in enumerate(adds):
    got = r.get(timeout=timeout)
    if got != 2 * i:
        problems.append("add(%d, %d) = %r" % (i, i, got))
if flaky_r.get(timeout=timeout) != 3:
    problems.append("flaky returned %r" % flaky_r.result)
try:
    fail_r.get(timeout=timeout)
    problems.append("fail() succeeded")
except ValueError as e:
    if "boom" not in str(e):
        problems.append("fail() raised %r" % e)
if chain_r.get(timeout=timeout) != 10:
    problems.append("chain = %r" % chain_r.result)
if delayed_r.get(timeout=timeout) != 42:
    problems.append("delayed = %r" % delayed_r.result)
if group_r.get(timeout=timeout) != [i + 1 for i in range(10)]:
    problems.append("group = %r" % group_r.result)
if chord_r.get(timeout=timeout) != 90:
    problems.append("chord = %r" % chord_r.result)
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok", n + 7)
