# The RunPod serverless image: `flakebox worker` on Debian bookworm-slim.
# Every step is a subcommand of scripts/image.sh, which CI also runs on its own machine (where no
# Docker engine runs), so the package list and the staged layout cannot drift from what is tested.
#
#   docker build -t flakebox-worker .
#   docker run --rm flakebox-worker --allow-local-repos    # runs test_input.json: the bundled example

# Pinned by tag; pin by digest (swift:6.3.1-bookworm@sha256:…) once the digest can be checked
# against the registry.
FROM swift:6.3.1-bookworm AS build
WORKDIR /src
COPY scripts/image.sh scripts/image.sh
RUN scripts/image.sh install-build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN scripts/image.sh build /out

FROM debian:bookworm-slim
COPY scripts/image.sh /tmp/image.sh
RUN /tmp/image.sh install-runtime && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
# The same smoke test as CI's, now on the real runtime image: a missing library or package fails
# the build here rather than the first job on RunPod. /tmp is left empty: what the check's jobs
# made there as root would be unwritable for a container run with --user.
RUN /tmp/image.sh check / && rm -rf /tmp/* /tmp/.[!.]*

# Writable by any uid (`docker run --user …` too): HOME and the working directory, where the local
# test mode looks for test_input.json. Checkouts and attempts go to /tmp.
RUN install -d -m 1777 /work \
 && cp /usr/local/share/flakebox/examples/test_input.json /work/test_input.json
ENV HOME=/work
WORKDIR /work

# tini is PID 1: it reaps orphans and forwards SIGTERM; the worker handles SIGTERM itself
# (finishes or cuts short the running job, posts its result, exits 0).
ENTRYPOINT ["/usr/bin/tini", "--", "flakebox", "worker"]
