#!/usr/bin/env python3
"""`flakebox serve` nodes on one PostgreSQL database, one node against three, in one run: the time
from a job's submission to its first attempt starting (IN_PROGRESS) on an idle cluster, jobs
claimed and run per second when 40 one-attempt jobs arrive at once, and one 240-run job cut into
60 shards of 4 (`--shard-runs 4`): from submission to its merged summary, and shards claimed and
run per second. Called by
scripts/bench-nodes.sh."""
import json, os, statistics, subprocess, sys, tempfile, time, urllib.request, uuid

BIN, URL = sys.argv[1], sys.argv[2]


def psql(sql):
    subprocess.run(["psql", URL, "--no-psqlrc", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                   capture_output=True)


def call(port, method, path, key, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v2/flakebox/{path}", data=data, method=method,
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as reply:
        return json.load(reply)


def cluster(nodes, repo):
    schema = "bench_" + uuid.uuid4().hex[:12]
    psql(f"CREATE SCHEMA {schema}")
    url = URL + ("&" if "?" in URL else "?") + f"options=-csearch_path%3D{schema}"
    key = json.loads(subprocess.run([BIN, "serve", "keys", "create", "--database", url, "--name", "bench",
                                     "--max-queued", "1000", "--max-running", "64", "--json"],
                                    check=True, capture_output=True, text=True).stdout)["secret"]
    procs, ports = [], []
    # The nodes go whatever happens below (a refused job, a failed assertion): none is left running.
    try:
        for _ in range(nodes):
            out = tempfile.TemporaryFile()
            p = subprocess.Popen([BIN, "serve", "--database", url, "--port", "0", "--concurrency", "2",
                                  "--shard-runs", "4", "--allow-local-repos", "--allow-private-addresses"],
                                 stdout=subprocess.PIPE,
                                 stderr=out, text=True)
            line = p.stdout.readline()
            ports.append(int(line.rsplit(":", 1)[1]))
            procs.append(p)
        job = {"input": {"repo": repo, "test_command": "true", "runs": 1}}
        starts = []
        for _ in range(10):
            begin = time.monotonic()
            jid = call(ports[0], "POST", "run", key, job)["id"]
            while call(ports[0], "GET", f"status/{jid}", key)["status"] == "IN_QUEUE":
                time.sleep(0.005)
            starts.append((time.monotonic() - begin) * 1000)
            while call(ports[0], "GET", f"status/{jid}", key)["status"] not in ("COMPLETED", "FAILED"):
                time.sleep(0.02)
        begin = time.monotonic()
        ids = [call(ports[i % nodes], "POST", "run", key, job)["id"] for i in range(40)]
        pending = set(ids)
        while pending:
            for jid in list(pending):
                if call(ports[0], "GET", f"status/{jid}", key)["status"] in ("COMPLETED", "FAILED"):
                    pending.discard(jid)
            time.sleep(0.05)
        rate = 40 / (time.monotonic() - begin)
        # One job of 240 runs of a 50 ms test, 2 at a time per shard: 60 shards over the nodes.
        big = {"input": {"repo": repo, "test_command": "sleep 0.05", "runs": 240, "parallelism": 2,
                         "timeout_s": 60}}
        begin = time.monotonic()
        jid = call(ports[0], "POST", "run", key, big)["id"]
        while (reply := call(ports[0], "GET", f"status/{jid}", key))["status"] not in ("COMPLETED", "FAILED"):
            time.sleep(0.05)
        assert reply["status"] == "COMPLETED" and reply["output"]["total_runs"] == 240, reply
        sharded = time.monotonic() - begin
        return statistics.median(starts), rate, sharded
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
        psql(f"DROP SCHEMA {schema} CASCADE")


repo = tempfile.mkdtemp(prefix="flakebox-bench-nodes-")
os.chmod(repo, 0o755)
subprocess.run(["git", "-C", repo, "init", "-q", "-b", "main"], check=True)
open(os.path.join(repo, "README"), "w").write("bench\n")
subprocess.run(["git", "-C", repo, "add", "-A"], check=True)
subprocess.run(["git", "-C", repo, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"], check=True)
one, three = cluster(1, repo), cluster(3, repo)
print("| serve nodes on one PostgreSQL database, `true` jobs of one attempt | 1 node | 3 nodes |")
print("|---|---:|---:|")
print(f"| submit → first attempt started (IN_PROGRESS), idle cluster, median of 10 | {one[0]:.0f} ms | {three[0]:.0f} ms |")
print(f"| 40 jobs submitted at once: claimed and run per second (2 at a time per node) | {one[1]:.1f} | {three[1]:.1f} |")
print(f"| one job of 240 runs of `sleep 0.05`, parallelism 2, in 60 shards: submit → merged summary | {one[2]:.1f} s | {three[2]:.1f} s |")
print(f"| the same: shards claimed and run per second | {60 / one[2]:.1f} | {60 / three[2]:.1f} |")
