"""RunPod's own Python client, unchanged, against `flakebox serve`.

Run by scripts/service-check.sh with:
  FLAKEBOX_URL   the service's base URL (http://127.0.0.1:PORT)
  FLAKEBOX_KEY   an API key with the submit and read scopes
  FLAKEBOX_REPO  a local git repository (the service runs with --allow-local-repos)
  FLAKEBOX_DONE  optional: a file that gets the id of a COMPLETED job (for the schema check)
Exits non-zero with the failed assertion on the first difference.
"""

import itertools
import os
import sys
import time

import requests
import runpod

URL = os.environ["FLAKEBOX_URL"]
REPO = os.environ["FLAKEBOX_REPO"]
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}

# Fails when TEST_SEED is a multiple of 3: seeds 0..5 give failures at 0 and 3.
FLAKY = "python3 -c 'import os,sys; sys.exit(int(os.environ[\"TEST_SEED\"])%3==0)'"
JOB = {"repo": REPO, "test_command": FLAKY, "runs": 6}
SLOW = {"repo": REPO, "test_command": "sleep 60", "runs": 1, "timeout_s": 120}


def step(name):
    print(f"runpod client: {name}", flush=True)


def check_summary(summary, where):
    assert isinstance(summary, dict), f"{where}: the output is not the summary: {summary!r}"
    for key in ("total_runs", "parallelism", "failures", "repro_rate", "results"):
        assert key in summary, f"{where}: the summary has no {key}: {sorted(summary)}"
    assert summary["total_runs"] == 6, f"{where}: total_runs {summary['total_runs']}"
    assert len(summary["results"]) == 6, f"{where}: {len(summary['results'])} results"
    for result in summary["results"]:
        expected = "failed" if result["seed"] % 3 == 0 else "passed"
        assert result["status"] == expected, f"{where}: seed {result['seed']} {result['status']}, not {expected}"
    failing = sum(1 for r in summary["results"] if r["seed"] % 3 == 0)
    assert failing >= 1, f"{where}: no seed is a multiple of 3: {[r['seed'] for r in summary['results']]}"
    assert summary["failures"] == failing, f"{where}: failures {summary['failures']}, expected {failing}"
    assert abs(summary["repro_rate"] - failing / 6) < 1e-6, f"{where}: repro_rate {summary['repro_rate']}"
    assert summary["verdict"] == "flaky", f"{where}: verdict {summary['verdict']}"


def wait_final(job, seconds=300):
    deadline = time.monotonic() + seconds
    while True:
        status = job.status()
        if status in FINAL:
            return status
        assert time.monotonic() < deadline, f"job {job.job_id} still {status} after {seconds} s"
        time.sleep(0.5)


def wait_status(job, wanted, seconds=120):
    """Polls /status (bypassing the client's cache of final states) until the job is `wanted`."""
    deadline = time.monotonic() + seconds
    while True:
        status = job._fetch_job()["status"]  # the client's own request, without its cache
        if status == wanted:
            return
        assert status not in FINAL, f"job {job.job_id} is {status}, waited for {wanted}"
        assert time.monotonic() < deadline, f"job {job.job_id} still {status} after {seconds} s"
        time.sleep(0.5)


def main():
    runpod.api_key = os.environ["FLAKEBOX_KEY"]
    runpod.endpoint_url_base = f"{URL}/v2"
    endpoint = runpod.Endpoint("flakebox")

    step("run_sync")
    summary = endpoint.run_sync(JOB, timeout=300)
    check_summary(summary, "run_sync")

    step("run + status + output")
    job = endpoint.run(JOB)
    assert job.job_id, "run gave no id"
    assert wait_final(job) == "COMPLETED", f"run: {job.status()}"
    check_summary(job.output(timeout=60), "run/output")

    step("stream")
    # A final job's unread chunks: its summary once, then an empty stream ends the generator.
    chunks = list(itertools.islice(job.stream(), 100))
    assert chunks, "stream of a completed job gave no chunk"
    check_summary(chunks[-1], "stream")
    assert list(itertools.islice(job.stream(), 100)) == [], "stream chunks are consumed"

    if os.environ.get("FLAKEBOX_DONE"):
        with open(os.environ["FLAKEBOX_DONE"], "w", encoding="utf-8") as done:
            done.write(job.job_id)

    step("cancel")
    slow = endpoint.run(SLOW)
    wait_status(slow, "IN_PROGRESS")
    reply = slow.cancel(timeout=30)
    assert reply == {"id": slow.job_id, "status": "CANCELLED"}, f"cancel: {reply}"
    assert slow._fetch_job()["status"] == "CANCELLED", "cancelled job's status"
    again = slow.cancel(timeout=30)
    assert again["status"] == "CANCELLED", f"cancel of a final job: {again}"

    step("health")
    health = endpoint.health(timeout=30)
    for key in ("completed", "failed", "inProgress", "inQueue", "retried"):
        assert isinstance(health["jobs"].get(key), int), f"health.jobs.{key}: {health}"
    for key in ("idle", "running"):
        assert isinstance(health["workers"].get(key), int), f"health.workers.{key}: {health}"
    assert health["jobs"]["completed"] >= 2, f"two jobs completed: {health}"

    step("purge_queue")
    blocker = endpoint.run(SLOW)
    wait_status(blocker, "IN_PROGRESS")
    queued = [endpoint.run(JOB) for _ in range(3)]
    for job in queued:
        assert job.status() == "IN_QUEUE", f"behind a running job with one runner: {job.status()}"
    purged = endpoint.purge_queue(timeout=30)
    assert purged == {"removed": 3, "status": "completed"}, f"purge_queue: {purged}"
    for job in queued:
        try:
            status = job._fetch_job()["status"]
        except requests.HTTPError as error:
            assert error.response.status_code == 404, f"a purged job: {error}"
        else:
            assert status != "IN_QUEUE" and status != "IN_PROGRESS", f"a purged job is {status}"
    assert blocker._fetch_job()["status"] == "IN_PROGRESS", "purge leaves running jobs alone"
    assert blocker.cancel(timeout=30)["status"] == "CANCELLED"

    step("a wrong key is refused as RunPod's client expects")
    runpod.api_key = "fbk_not_a_key"
    try:
        runpod.Endpoint("flakebox").health()
    except RuntimeError as error:
        assert "401" in str(error), f"{error}"
    else:
        raise AssertionError("a wrong key was accepted")

    print("runpod client: all checks passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"runpod client: FAILED: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
