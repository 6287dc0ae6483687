/* The harness that reproduces an unprivileged Docker container on a root VM (tests only). */
#ifndef FB_CONFINE_H
#define FB_CONFINE_H

#include <stddef.h>
#include <stdint.h>

/* Keeps only the capabilities in `caps` (bit n = capability n) in every set, loads the seccomp
 * program `bpf` (struct sock_filter[]), then execs argv[0] (a path). Returns an errno on failure. */
int fb_confine_exec(const unsigned char *bpf, size_t bpf_len, uint64_t caps, char *const argv[],
                    char *const envp[]);

#endif
