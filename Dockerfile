# The RunPod serverless image: `flakebox worker` on Debian bookworm-slim.
# Every step is a subcommand of scripts/image.sh, so the package list and the staged layout live in
# one place; scripts/image-test.sh builds this file with podman and runs the image under Docker's
# confinement on every CI run.
#
#   docker build -t flakebox-worker .
#   docker run --rm flakebox-worker --allow-local-repos    # runs test_input.json: the bundled example
#
# Build arguments (the defaults are the public images; the test passes local ones, made from a
# debootstrapped bookworm, because no registry is reachable where it runs):
#   BUILD_IMAGE    the Swift toolchain image the release build runs in
#   RUNTIME_IMAGE  the base of the image itself
#   TREE           `build` compiles in BUILD_IMAGE; `staged` takes the tree that
#                  `scripts/image.sh build .image-tree` staged in the build context instead (so the
#                  toolchain stage, and BUILD_IMAGE, are never used)

# Pinned by tag; pin by digest (swift:6.3.1-bookworm@sha256:…) once the digest can be checked
# against the registry.
ARG BUILD_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
ARG TREE=build

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY scripts/image.sh scripts/image.sh
RUN scripts/image.sh install-build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN scripts/image.sh build /out

FROM scratch AS staged
COPY .image-tree/ /out/

# The stage the runtime copies from, chosen by TREE; a builder skips the stage it does not need.
FROM ${TREE} AS tree

FROM ${RUNTIME_IMAGE}
COPY scripts/image.sh /tmp/image.sh
RUN /tmp/image.sh install-runtime && rm -rf /var/lib/apt/lists/*
COPY --from=tree /out/ /
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
