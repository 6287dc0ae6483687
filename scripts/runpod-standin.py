#!/usr/bin/env python3
"""A minimal stand-in for RunPod's worker-facing API, for benchmarks and trying the worker by hand.

Serves the job-take, job-done, job-stop and ping URLs of docs/RUNPOD_PROTOCOL.md §3 on 127.0.0.1:
jobs come from a JSON-lines file (one {"id", "input"} per line, appended to at will), handed out
once each, in order; an empty
queue holds the long-poll for HOLD seconds, then answers 204. Every request is logged to stdout as
one JSON line: {"t", "method", "path", "headers", "bytes", "status"} (and "body" for job-done posts).

    scripts/runpod-standin.py PORT JOBS.jsonl [HOLD]
    RUNPOD_WEBHOOK_GET_JOB='http://127.0.0.1:PORT/v2/EP/job-take/$ID?gpu=EMULATED' \
    RUNPOD_WEBHOOK_POST_OUTPUT='http://127.0.0.1:PORT/v2/EP/job-done/$RUNPOD_POD_ID/$ID?gpu=EMULATED' \
    RUNPOD_WEBHOOK_PING='http://127.0.0.1:PORT/v2/EP/ping/$RUNPOD_POD_ID?gpu=EMULATED' \
    RUNPOD_AI_API_KEY=local RUNPOD_POD_ID=local flakebox worker
"""
import http.server
import json
import sys
import threading
import time

port, jobs_path = int(sys.argv[1]), sys.argv[2]
hold = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
served = 0
lock = threading.Lock()


def next_job():
    """The next line of the jobs file not yet handed out (the file may grow while serving)."""
    global served
    with open(jobs_path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    if served < len(lines):
        served += 1
        return lines[served - 1]
    return None


def record(event):
    with lock:
        print(json.dumps(event), flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        event = {"t": time.time(), "method": "GET", "path": self.path, "headers": dict(self.headers)}
        if "/job-take/" in self.path:
            with lock:
                job = next_job()
            if job is not None:
                event.update(status=200, bytes=len(job))
                record(event)
                return self.reply(200, job.encode())
            time.sleep(hold)
        elif "/job-stop/" in self.path:
            time.sleep(hold)
        elif "/ping/" in self.path:
            event.update(status=200)
            record(event)
            return self.reply(200, b"{}")
        event.update(status=204)
        record(event)
        self.reply(204)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        event = {"t": time.time(), "method": "POST", "path": self.path, "headers": dict(self.headers),
                 "bytes": len(body), "status": 200}
        if "/job-done/" in self.path:
            event["body"] = json.loads(body)
        record(event)
        self.reply(200, b"{}")


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
