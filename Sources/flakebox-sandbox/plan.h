/*
 * The plan of one sandboxed attempt, parsed from the command line (and from --args FD).
 * Everything the child needs is in here before the first clone: no parsing happens later.
 */
#ifndef FB_PLAN_H
#define FB_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum fb_mount_kind {
    FB_MOUNT_RO_BIND, /* read-only, nosuid, nodev bind of a host path */
    FB_MOUNT_BIND,    /* read-write bind (reduced tier: a per-attempt copy of the checkout) */
    FB_MOUNT_OVERLAY, /* copy-on-write overlay: lower = host path, upper on a private tmpfs */
    FB_MOUNT_TMPFS,   /* size- and inode-limited tmpfs */
    FB_MOUNT_PROC,    /* a fresh procfs for the new pid namespace, sensitive parts read-only */
    FB_MOUNT_DEV,     /* a minimal /dev: null zero full random urandom, fd links, shm; no tty */
    FB_MOUNT_DIR,     /* an empty directory */
    FB_MOUNT_SYMLINK, /* a symlink (source = target text) */
    FB_MOUNT_FILE,    /* a small read-only file (source = its content) */
};

struct fb_mount {
    enum fb_mount_kind kind;
    const char *source; /* host path, symlink target or file content */
    const char *dest;   /* path inside the sandbox, absolute */
    uint64_t size;      /* tmpfs / dev-shm / overlay-scratch bytes */
    uint64_t inodes;    /* tmpfs nr_inodes */
    int source_fd;      /* O_PATH fd opened before any mount, so staging cannot shadow it */
    int commit;         /* overlay: its upper is applied to the lower after a command that exited 0 */
};

struct fb_landlock_path {
    const char *path;
    int writable; /* 1: every right beneath it; 0: read and execute */
};

/* Minimal tier: absolute paths beneath `from` (/tmp) are redirected to `alias` (/.k3, a symlink
 * to the attempt's own directory, no longer than `from`). See pathguard.h. */
struct fb_private_path {
    const char *from;
    const char *alias;
};

struct fb_rlimit {
    int resource;
    uint64_t value;
};

#define FB_MAX_MOUNTS 128
#define FB_MAX_RLIMITS 16
#define FB_MAX_CGROUPS 8
#define FB_MAX_ENV 512
#define FB_MAX_ARGV 4096
#define FB_MAX_ARTIFACTS 16
#define FB_MAX_LANDLOCK 64
#define FB_MAX_PRIVATE_PATHS 4

struct fb_plan {
    /* identity */
    int have_ids;
    uid_t uid; /* host uid the sandbox runs as when the helper starts as root */
    gid_t gid;
    uid_t inner_uid; /* uid the test sees (nested user namespace) */
    gid_t inner_gid;

    /* isolation */
    int namespaces; /* 0 = minimal tier: no namespaces at all */
    int own_uid;    /* minimal tier: the uid is this attempt's alone, so kill(-1) ends exactly it */
    int net_guard;  /* minimal tier: seccomp notification gives the attempt a loopback of its own */
    int landlock;   /* minimal tier: confine the filesystem to the landlock paths */
    struct fb_landlock_path landlock_paths[FB_MAX_LANDLOCK];
    size_t n_landlock;
    struct fb_private_path private_paths[FB_MAX_PRIVATE_PATHS]; /* needs net_guard's listener */
    size_t n_private_paths;
    int unshare_net;
    int egress_port;          /* network: proxy: the egress proxy's port on the sandbox's 127.0.0.1 */
    int egress_allow_private; /* tests only: the proxy may reach any address */
    int egress_public; /* minimal tier, --share-net: the net guard lets only public destinations through */
    const char *hostname;

    struct fb_mount mounts[FB_MAX_MOUNTS];
    size_t n_mounts;

    struct fb_rlimit rlimits[FB_MAX_RLIMITS];
    size_t n_rlimits;

    const char *cgroup_procs[FB_MAX_CGROUPS];
    int cgroup_fds[FB_MAX_CGROUPS]; /* opened before privileges are dropped */
    size_t n_cgroups;
    /* The attempt cgroup's CPU usage (v1 cpuacct.usage, v2 cpu.stat), read as the command starts:
     * what the sandbox's construction spent in the cgroup is not the test's (see report.h). */
    const char *cpu_usage_path;
    int cpu_usage_fd;

    const char *chdir;
    int oom_score_adj;

    /* stress mode: noise workers beside the command (see noise.h) */
    unsigned noise_cpu;
    unsigned noise_io;
    uint64_t noise_io_bytes;

    /* channels */
    int report_fd;      /* status records; -1: human-readable lines on stderr */
    int lifeline_fd;    /* POLLHUP = the supervisor is gone */
    int seccomp_fd;     /* raw struct sock_filter[] */
    int artifact_fd;    /* files the test left behind, read after it exits */
    int hold_fd;        /* a pre-spawned launcher waits here for the rest of its arguments */
    int build_ahead;    /* held, with namespaces: PID 1 builds the root before those arrive */
    int guard_fd;       /* minimal tier, net guard: the worker hands its listener over this socket */
    int egress_fd;      /* network: proxy: PID 1 hands the proxy's listening socket over this socket */
    int commit_fd;      /* --overlay-commit: PID 1 hands the upper out here, then 'c' if the command passed */
    pid_t launcher_pid; /* minimal tier: the launcher, whose death kills the worker */
    int shell_fallback; /* argv is a shell command's words: a failed execve runs them under /bin/sh -c */
    const char *artifacts[FB_MAX_ARTIFACTS];
    size_t n_artifacts;
    unsigned char *bpf;
    size_t bpf_len;

    /* what to run */
    char *env[FB_MAX_ENV + 1];
    size_t n_env;
    char **argv;
};

/* Replaces "--args FD" in argv with the arguments read from FD. Returns 0, or -1. */
int fb_expand_args(int *argc, char ***argv);

/* Parses argv (expanding --args FD in place). Returns 0, or -1 with a message on stderr. */
int fb_plan_parse(struct fb_plan *plan, int argc, char **argv);

/* The same; with `without_command`, argv may end before the command (plan->argv stays NULL). */
int fb_plan_parse_base(struct fb_plan *plan, int argc, char **argv, int without_command);

/* Adds what reaches a sandbox built ahead (--setenv, --noise, -- COMMAND) to a parsed plan. */
int fb_plan_parse_late(struct fb_plan *plan, int argc, char **argv);

#endif
