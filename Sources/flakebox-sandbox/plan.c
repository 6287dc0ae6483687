/*
 * Command-line parsing for flakebox-sandbox. The supervisor passes its plan as NUL-separated
 * arguments on a file descriptor (--args FD), so that PID 1's /proc/self/cmdline shows nothing
 * of it; a developer can pass the same options on the command line.
 */
#include "plan.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char usage[] =
    "usage: flakebox-sandbox [OPTIONS] [--] COMMAND [ARG...]\n"
    "       flakebox-sandbox --serve FD   (fork a launcher per request on socket FD; see server.c)\n"
    "Runs COMMAND in a new user/mount/pid/net/ipc/uts/cgroup namespace sandbox.\n"
    "  --args FD                 read more NUL-separated arguments from FD\n"
    "  --report-fd FD            write status records ('error STAGE ERRNO', 'exit STATUS') to FD\n"
    "  --lifeline-fd FD          kill the sandbox when FD reports hang-up (the supervisor died)\n"
    "  --seccomp-fd FD           load this raw BPF program (struct sock_filter[]) just before execve\n"
    "  --artifact-fd FD          after the command exits, send the files matching --artifact to FD\n"
    "  --hold-fd FD              join the cgroups now, then wait for the rest of the arguments\n"
    "                            (NUL-separated, ending with -- COMMAND) on FD; EOF with none: exit\n"
    "  --build-ahead             with --hold-fd (namespaces): build the whole sandbox first; the rest\n"
    "                            may then hold only --setenv, --noise and -- COMMAND\n"
    "  --artifact PATTERN        an absolute path, wildcards allowed in its last component\n"
    "  --uid UID --gid GID       host identity to drop to first (when started as root)\n"
    "  --inner-uid UID --inner-gid GID   identity the command sees (default 1000)\n"
    "  --no-namespaces           minimal tier: process group + subreaper + rlimits + seccomp only\n"
    "  --own-uid                 minimal tier: --uid is this attempt's alone (kill(-1) ends the attempt)\n"
    "  --net-guard               minimal tier: a loopback address of its own, no egress without --share-net\n"
    "  --landlock                minimal tier: Landlock; reads/writes only beneath --landlock-ro/-rw PATH\n"
    "  --private-path DIR ALIAS  minimal tier, with --net-guard: absolute paths beneath DIR go to ALIAS\n"
    "                            (no longer than DIR; a symlink to the attempt's own directory)\n"
    "  --share-net               keep the host network (default: a private loopback only)\n"
    "  --egress-proxy PORT       a proxy on the sandbox's 127.0.0.1:PORT: HTTP CONNECT to public addresses\n"
    "  --egress-allow-private    (tests) let that proxy reach loopback and private addresses too\n"
    "  --egress-public           minimal tier, --share-net, --net-guard: public destinations only (and DNS)\n"
    "  --hostname NAME\n"
    "  --ro-bind SRC DEST        read-only nosuid nodev bind\n"
    "  --bind SRC DEST           read-write bind\n"
    "  --overlay LOWER DEST SIZE INODES   copy-on-write overlay of LOWER, upper on a private tmpfs\n"
    "  --overlay-commit LOWER DEST SIZE INODES   the same, its upper applied to LOWER if the command exits "
    "0\n"
    "  --tmpfs DEST SIZE INODES\n"
    "  --proc DEST | --dev DEST SHM_SIZE | --dir DEST\n"
    "  --symlink TARGET DEST | --file CONTENT DEST\n"
    "  --rlimit NAME VALUE       NAME: as cpu data fsize nofile nproc core memlock msgqueue sigpending "
    "stack\n"
    "  --cgroup-procs PATH       join this cgroup (its cgroup.procs file) before dropping privileges\n"
    "  --cpu-usage PATH          report this cgroup CPU usage file's value as the command starts\n"
    "  --oom-score-adj N         (default 1000: the sandbox dies before the supervisor)\n"
    "  --chdir DIR\n"
    "  --noise CPU IO IO_BYTES   stress: CPU spinners and I/O writers beside the command, in its cgroups\n"
    "  --shell-fallback          the command is a shell command's words: if it cannot be executed, run\n"
    "                            them joined under /bin/sh -c (the shell says why, 127 or 126)\n"
    "  --setenv NAME=VALUE       the command's environment is exactly the --setenv entries\n";

static int parse_fd(const char *s, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 65535) return -1;
    *out = (int)v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    if (*s == '-') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s) return -1;
    *out = v;
    return 0;
}

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"as", RLIMIT_AS},
    {"core", RLIMIT_CORE},
    {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},
    {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE},
    {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},
    {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

/* Reads all of fd into a NUL-terminated buffer. */
static char *slurp(int fd, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
        ssize_t r = pread(fd, buf + n, cap - n - 1, (off_t)n);
        if (r < 0 && errno == ESPIPE) r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            free(buf);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Replaces "--args FD" with the arguments read from FD (one level; nested --args is refused). */
int fb_expand_args(int *argc, char ***argv) {
    for (int i = 1; i < *argc; i++) {
        if (strcmp((*argv)[i], "--") == 0) return 0;
        if (strcmp((*argv)[i], "--args") != 0) continue;
        int fd;
        if (i + 1 >= *argc || parse_fd((*argv)[i + 1], &fd)) {
            fprintf(stderr, "flakebox-sandbox: --args needs a file descriptor\n");
            return -1;
        }
        size_t len;
        char *data = slurp(fd, &len);
        if (!data) {
            fb_fail_plain("read --args", errno);
            return -1;
        }
        close(fd);
        size_t count = 0;
        for (size_t k = 0; k < len; k++)
            if (data[k] == 0) count++;
        if (len > 0 && data[len - 1] != 0) count++;
        size_t total = (size_t)*argc - 2 + count;
        if (total > FB_MAX_ARGV) {
            fprintf(stderr, "flakebox-sandbox: too many arguments\n");
            return -1;
        }
        char **out = calloc(total + 1, sizeof(char *));
        if (!out) return -1;
        size_t o = 0;
        for (int k = 0; k < i; k++)
            out[o++] = (*argv)[k];
        for (size_t k = 0; k < len;) {
            out[o++] = data + k;
            k += strlen(data + k) + 1;
        }
        for (int k = i + 2; k < *argc; k++)
            out[o++] = (*argv)[k];
        out[o] = NULL;
        *argc = (int)o;
        *argv = out;
        return 0;
    }
    return 0;
}

#define NEED(n)                                                                                              \
    do {                                                                                                     \
        if (i + (n) >= argc) {                                                                               \
            fprintf(stderr, "flakebox-sandbox: %s needs %d argument(s)\n%s", a, (n), usage);                 \
            return -1;                                                                                       \
        }                                                                                                    \
    } while (0)

static struct fb_mount *add_mount(struct fb_plan *plan, enum fb_mount_kind kind) {
    if (plan->n_mounts >= FB_MAX_MOUNTS) {
        fprintf(stderr, "flakebox-sandbox: too many mounts\n");
        return NULL;
    }
    struct fb_mount *m = &plan->mounts[plan->n_mounts++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->source_fd = -1;
    return m;
}

static int check_dest(const char *dest) {
    if (dest[0] != '/' || strstr(dest, "/../") || strcmp(dest, "/") == 0) {
        fprintf(stderr, "flakebox-sandbox: destination must be an absolute path below /: %s\n", dest);
        return -1;
    }
    return 0;
}

/* The options of argv[1..] into `plan`. `mode`: FB_PARSE_FULL (a command must follow),
 * FB_PARSE_BASE (a held launcher's arguments: no command yet) or FB_PARSE_LATE (what reaches a
 * sandbox built ahead: only the environment, noise and the command). */
enum { FB_PARSE_FULL, FB_PARSE_BASE, FB_PARSE_LATE };
static int parse_options(struct fb_plan *plan, int argc, char **argv, int mode);

int fb_plan_parse_late(struct fb_plan *plan, int argc, char **argv) {
    return parse_options(plan, argc, argv, FB_PARSE_LATE);
}

int fb_plan_parse(struct fb_plan *plan, int argc, char **argv) {
    return fb_plan_parse_base(plan, argc, argv, 0);
}

int fb_plan_parse_base(struct fb_plan *plan, int argc, char **argv, int without_command) {
    memset(plan, 0, sizeof *plan);
    plan->namespaces = 1;
    plan->unshare_net = 1;
    plan->report_fd = -1;
    plan->lifeline_fd = -1;
    plan->seccomp_fd = -1;
    plan->artifact_fd = -1;
    plan->hold_fd = -1;
    plan->cpu_usage_fd = -1;
    plan->guard_fd = -1;
    plan->egress_fd = -1;
    plan->commit_fd = -1;
    plan->inner_uid = 1000;
    plan->inner_gid = 1000;
    plan->oom_score_adj = 1000;
    plan->hostname = "flakebox";

    if (fb_expand_args(&argc, &argv)) return -1;
    return parse_options(plan, argc, argv, without_command ? FB_PARSE_BASE : FB_PARSE_FULL);
}

static int parse_options(struct fb_plan *plan, int argc, char **argv, int mode) {
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(a, "--", 2) != 0) break;
        /* The sandbox is built: nothing but these may change it now. */
        if (mode == FB_PARSE_LATE && strcmp(a, "--setenv") != 0 && strcmp(a, "--noise") != 0 &&
            strcmp(a, "--shell-fallback") != 0) {
            fprintf(stderr, "flakebox-sandbox: %s cannot follow a sandbox built ahead\n", a);
            return -1;
        }
        if (strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        } else if (strcmp(a, "--report-fd") == 0 || strcmp(a, "--lifeline-fd") == 0 ||
                   strcmp(a, "--seccomp-fd") == 0) {
            NEED(1);
            int fd;
            if (parse_fd(argv[++i], &fd)) goto bad;
            if (a[2] == 'r')
                plan->report_fd = fd;
            else if (a[2] == 'l')
                plan->lifeline_fd = fd;
            else
                plan->seccomp_fd = fd;
        } else if (strcmp(a, "--hold-fd") == 0) {
            NEED(1);
            if (parse_fd(argv[++i], &plan->hold_fd)) goto bad;
        } else if (strcmp(a, "--build-ahead") == 0) {
            plan->build_ahead = 1;
        } else if (strcmp(a, "--artifact-fd") == 0) {
            NEED(1);
            if (parse_fd(argv[++i], &plan->artifact_fd)) goto bad;
        } else if (strcmp(a, "--artifact") == 0) {
            NEED(1);
            if (plan->n_artifacts >= FB_MAX_ARTIFACTS || argv[i + 1][0] != '/') goto bad;
            plan->artifacts[plan->n_artifacts++] = argv[++i];
        } else if (strcmp(a, "--uid") == 0 || strcmp(a, "--gid") == 0 || strcmp(a, "--inner-uid") == 0 ||
                   strcmp(a, "--inner-gid") == 0) {
            NEED(1);
            uint64_t v;
            if (parse_u64(argv[++i], &v) || v > 0xfffffffeULL) goto bad;
            if (strcmp(a, "--uid") == 0)
                plan->uid = (uid_t)v, plan->have_ids |= 1;
            else if (strcmp(a, "--gid") == 0)
                plan->gid = (gid_t)v, plan->have_ids |= 2;
            else if (strcmp(a, "--inner-uid") == 0)
                plan->inner_uid = (uid_t)v;
            else
                plan->inner_gid = (gid_t)v;
        } else if (strcmp(a, "--args") == 0) {
            fprintf(stderr, "flakebox-sandbox: --args may be given once, and not inside its own file\n");
            return -1;
        } else if (strcmp(a, "--no-namespaces") == 0) {
            plan->namespaces = 0;
        } else if (strcmp(a, "--own-uid") == 0) {
            plan->own_uid = 1;
        } else if (strcmp(a, "--net-guard") == 0) {
            plan->net_guard = 1;
        } else if (strcmp(a, "--landlock") == 0) {
            plan->landlock = 1;
        } else if (strcmp(a, "--landlock-ro") == 0 || strcmp(a, "--landlock-rw") == 0) {
            NEED(1);
            if (plan->n_landlock >= FB_MAX_LANDLOCK || argv[i + 1][0] != '/') goto bad;
            plan->landlock_paths[plan->n_landlock].writable = a[12] == 'w';
            plan->landlock_paths[plan->n_landlock++].path = argv[++i];
        } else if (strcmp(a, "--private-path") == 0) {
            NEED(2);
            const char *from = argv[i + 1], *alias = argv[i + 2];
            size_t fl = strlen(from);
            if (plan->n_private_paths >= FB_MAX_PRIVATE_PATHS || check_dest(from) || check_dest(alias) ||
                strlen(alias) > fl || from[fl - 1] == '/' || strstr(from, "//") || strstr(from, "/."))
                goto bad;
            plan->private_paths[plan->n_private_paths].from = from;
            plan->private_paths[plan->n_private_paths++].alias = alias;
            i += 2;
        } else if (strcmp(a, "--egress-proxy") == 0) {
            NEED(1);
            uint64_t v;
            if (parse_u64(argv[++i], &v) || v < 1 || v > 65535) goto bad;
            plan->egress_port = (int)v;
        } else if (strcmp(a, "--egress-allow-private") == 0) {
            plan->egress_allow_private = 1;
        } else if (strcmp(a, "--egress-public") == 0) {
            plan->egress_public = 1;
        } else if (strcmp(a, "--share-net") == 0) {
            plan->unshare_net = 0;
        } else if (strcmp(a, "--hostname") == 0) {
            NEED(1);
            plan->hostname = argv[++i];
        } else if (strcmp(a, "--ro-bind") == 0 || strcmp(a, "--bind") == 0 || strcmp(a, "--symlink") == 0 ||
                   strcmp(a, "--file") == 0) {
            NEED(2);
            enum fb_mount_kind k = a[2] == 'r'   ? FB_MOUNT_RO_BIND
                                   : a[2] == 'b' ? FB_MOUNT_BIND
                                   : a[2] == 's' ? FB_MOUNT_SYMLINK
                                                 : FB_MOUNT_FILE;
            struct fb_mount *m = add_mount(plan, k);
            if (!m) return -1;
            m->source = argv[++i];
            m->dest = argv[++i];
            if (check_dest(m->dest)) return -1;
        } else if (strcmp(a, "--overlay") == 0 || strcmp(a, "--overlay-commit") == 0) {
            NEED(4);
            int commit = a[9] == '-';
            /* One committed overlay at most: its upper is the one PID 1 hands out. */
            for (size_t k = 0; commit && k < plan->n_mounts; k++)
                if (plan->mounts[k].commit) goto bad;
            struct fb_mount *m = add_mount(plan, FB_MOUNT_OVERLAY);
            if (!m) return -1;
            m->commit = commit;
            m->source = argv[++i];
            m->dest = argv[++i];
            if (check_dest(m->dest) || parse_u64(argv[++i], &m->size) || parse_u64(argv[++i], &m->inodes))
                goto bad;
        } else if (strcmp(a, "--tmpfs") == 0) {
            NEED(3);
            struct fb_mount *m = add_mount(plan, FB_MOUNT_TMPFS);
            if (!m) return -1;
            m->dest = argv[++i];
            if (check_dest(m->dest) || parse_u64(argv[++i], &m->size) || parse_u64(argv[++i], &m->inodes))
                goto bad;
        } else if (strcmp(a, "--proc") == 0 || strcmp(a, "--dir") == 0) {
            NEED(1);
            struct fb_mount *m = add_mount(plan, a[2] == 'p' ? FB_MOUNT_PROC : FB_MOUNT_DIR);
            if (!m) return -1;
            m->dest = argv[++i];
            if (check_dest(m->dest)) return -1;
        } else if (strcmp(a, "--dev") == 0) {
            NEED(2);
            struct fb_mount *m = add_mount(plan, FB_MOUNT_DEV);
            if (!m) return -1;
            m->dest = argv[++i];
            if (check_dest(m->dest) || parse_u64(argv[++i], &m->size)) goto bad;
        } else if (strcmp(a, "--rlimit") == 0) {
            NEED(2);
            const char *name = argv[++i];
            uint64_t v;
            if (parse_u64(argv[++i], &v)) goto bad;
            size_t k = 0;
            for (; k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
                if (strcmp(rlimit_names[k].name, name) == 0) break;
            if (k == sizeof rlimit_names / sizeof rlimit_names[0] || plan->n_rlimits >= FB_MAX_RLIMITS) {
                fprintf(stderr, "flakebox-sandbox: unknown rlimit %s\n", name);
                return -1;
            }
            plan->rlimits[plan->n_rlimits].resource = rlimit_names[k].resource;
            plan->rlimits[plan->n_rlimits++].value = v;
        } else if (strcmp(a, "--cgroup-procs") == 0) {
            NEED(1);
            if (plan->n_cgroups >= FB_MAX_CGROUPS) goto bad;
            plan->cgroup_procs[plan->n_cgroups++] = argv[++i];
        } else if (strcmp(a, "--cpu-usage") == 0) {
            NEED(1);
            plan->cpu_usage_path = argv[++i];
        } else if (strcmp(a, "--oom-score-adj") == 0) {
            NEED(1);
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < -1000 || v > 1000) goto bad;
            plan->oom_score_adj = (int)v;
        } else if (strcmp(a, "--shell-fallback") == 0) {
            plan->shell_fallback = 1;
        } else if (strcmp(a, "--noise") == 0) {
            NEED(3);
            uint64_t cpu, io, bytes;
            if (parse_u64(argv[i + 1], &cpu) || parse_u64(argv[i + 2], &io) || parse_u64(argv[i + 3], &bytes))
                goto bad;
            if (cpu > 64 || io > 16 || bytes < 4096 || bytes > (1ull << 30)) goto bad;
            plan->noise_cpu = (unsigned)cpu;
            plan->noise_io = (unsigned)io;
            plan->noise_io_bytes = bytes;
            i += 3;
        } else if (strcmp(a, "--chdir") == 0) {
            NEED(1);
            plan->chdir = argv[++i];
        } else if (strcmp(a, "--setenv") == 0) {
            NEED(1);
            if (plan->n_env >= FB_MAX_ENV || !strchr(argv[i + 1], '=')) goto bad;
            plan->env[plan->n_env++] = argv[++i];
        } else {
            fprintf(stderr, "flakebox-sandbox: unknown option %s\n%s", a, usage);
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, "flakebox-sandbox: bad value for %s\n", a);
        return -1;
    }
    plan->env[plan->n_env] = NULL;
    if (i >= argc && mode == FB_PARSE_BASE) return 0;
    if (i >= argc) {
        fprintf(stderr, "flakebox-sandbox: no command given\n%s", usage);
        return -1;
    }
    plan->argv = &argv[i];
    return 0;
}
