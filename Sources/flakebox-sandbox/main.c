/*
 * flakebox-sandbox: runs one attempt of a test command in its own sandbox.
 *
 * Process tree: supervisor -> this helper (host namespaces, waits) -> PID 1 of the new pid
 * namespace (builds the root, then reaps) -> the worker (nested user namespace, seccomp, execve).
 * The helper is a single-threaded C program started with posix_spawn, so nothing of the Swift
 * supervisor (its heap, its threads, its signal mask) reaches the sandbox. See docs/SANDBOX.md §10
 * for the sequence and the reasons behind each step.
 */
#include "artifact.h"
#include "commit.h"
#include "egress.h"
#include "fdpass.h"
#include "landlock.h"
#include "netguard.h"
#include "noise.h"
#include "pathguard.h"
#include "plan.h"
#include "report.h"
#include "server.h"
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, uint64_t)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

/* Reads the whole seccomp program; a BPF program is an array of 8-byte struct sock_filter. */
static int load_bpf(struct fb_plan *plan) {
    if (plan->seccomp_fd < 0) return 0;
    size_t cap = 65536, n = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) return -1;
    for (;;) {
        if (n == cap) {
            errno = E2BIG;
            free(buf);
            return -1;
        }
        ssize_t r = pread(plan->seccomp_fd, buf + n, cap - n, (off_t)n);
        if (r < 0 && errno == ESPIPE) r = read(plan->seccomp_fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            free(buf);
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n == 0 || n % 8 != 0) {
        errno = EINVAL;
        free(buf);
        return -1;
    }
    close(plan->seccomp_fd);
    plan->seccomp_fd = -1;
    plan->bpf = buf;
    plan->bpf_len = n;
    return 0;
}

static int cmp_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor above 2 except the ones the plan names. */
static void close_unplanned_fds(const struct fb_plan *plan) {
    int keep[5];
    size_t n = 0;
    /* A sandbox built ahead waits for the rest of its arguments on the hold pipe (await_late). */
    if (plan->build_ahead && plan->hold_fd > 2) keep[n++] = plan->hold_fd;
    if (plan->report_fd > 2) keep[n++] = plan->report_fd;
    if (plan->artifact_fd > 2) keep[n++] = plan->artifact_fd;
    if (plan->lifeline_fd > 2) keep[n++] = plan->lifeline_fd;
    qsort(keep, n, sizeof keep[0], cmp_int);
    unsigned int from = 3;
    for (size_t k = 0; k < n; k++) {
        if ((unsigned int)keep[k] > from) close_range(from, (unsigned int)keep[k] - 1, 0);
        from = (unsigned int)keep[k] + 1;
    }
    close_range(from, ~0U, 0);
    for (size_t k = 0; k < n; k++)
        fcntl(keep[k], F_SETFD, FD_CLOEXEC);
}

/* The cgroup.procs files are opened while the helper may still be root: the open is what is
 * permission-checked (v2), and a task of our own uid may then be moved through them (v1). */
static int open_cgroups(struct fb_plan *plan) {
    for (size_t k = 0; k < plan->n_cgroups; k++) {
        plan->cgroup_fds[k] = open(plan->cgroup_procs[k], O_WRONLY | O_CLOEXEC);
        if (plan->cgroup_fds[k] < 0) return fb_fail("cgroup-open", errno), -1;
    }
    /* Only a figure: without it the supervisor counts the whole cgroup, as before. */
    if (plan->cpu_usage_path) plan->cpu_usage_fd = open(plan->cpu_usage_path, O_RDONLY | O_CLOEXEC);
    return 0;
}

/* Moves `pid` into every cgroup of the plan. */
static int join_cgroups(const struct fb_plan *plan, pid_t pid) {
    char text[32];
    int len = snprintf(text, sizeof text, "%d\n", pid);
    for (size_t k = 0; k < plan->n_cgroups; k++) {
        if (write(plan->cgroup_fds[k], text, (size_t)len) != len) return fb_fail("cgroup-join", errno), -1;
    }
    return 0;
}

/* A root supervisor hands the sandbox to a dedicated unprivileged host uid before anything else,
 * so that even an escape from every namespace lands on an account that owns nothing. */
static int drop_host_ids(struct fb_plan *plan) {
    if (geteuid() != 0) {
        plan->uid = geteuid();
        plan->gid = getegid();
        return 0;
    }
    if (plan->have_ids != 3) {
        plan->uid = 65534;
        plan->gid = 65534;
    }
    if (setgroups(0, NULL)) return fb_fail("setgroups", errno), -1;
    if (setresgid(plan->gid, plan->gid, plan->gid)) return fb_fail("setresgid", errno), -1;
    if (setresuid(plan->uid, plan->uid, plan->uid)) return fb_fail("setresuid", errno), -1;
    /* setresuid cleared dumpable; without it the child cannot write its own uid_map. */
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) return fb_fail("dumpable", errno), -1;
    return 0;
}

static int lifeline_broken(const struct fb_plan *plan) {
    if (plan->lifeline_fd < 0) return 0;
    struct pollfd p = {.fd = plan->lifeline_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* Waits for PID 1 (or the minimal-tier worker) while watching the lifeline and SIGTERM.
 * Returns the target's wait status, or -1 when the attempt was cut short. */
struct fb_guard {
    int listener; /* seccomp notification listener, or -1 */
    uint32_t own; /* the attempt's loopback address */
    int egress;   /* the policy shares the host's network */
};

static int supervise(const struct fb_plan *plan, pid_t target, int sigfd, void (*kill_all)(pid_t),
                     const struct fb_guard *guard) {
    int pidfd = (int)syscall(SYS_pidfd_open, target, 0);
    struct pollfd fds[4];
    for (;;) {
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = plan->lifeline_fd, .events = POLLIN};
        /* Negative descriptors are ignored by poll. */
        fds[n++] = (struct pollfd){.fd = guard ? guard->listener : -1, .events = POLLIN};
        /* Without a pidfd (old kernel) fall back to polling waitpid every 10 ms. */
        int r = poll(fds, n, pidfd < 0 ? 10 : -1);
        if (r < 0 && errno != EINTR) break;
        /* The path guard notifies often: a notification alone needs no waitpid. */
        if (r == 1 && pidfd >= 0 && (fds[3].revents & POLLIN)) {
            fb_netguard_handle(guard->listener, guard->own, guard->egress);
            continue;
        }
        int status;
        pid_t w = waitpid(target, &status, WNOHANG);
        if (w == target) return status;
        if (w < 0 && errno != EINTR) return -1;
        if (r <= 0) continue;
        if (fds[3].revents & POLLIN) fb_netguard_handle(guard->listener, guard->own, guard->egress);
        int stop = (fds[1].revents & POLLIN) || (fds[2].revents & (POLLHUP | POLLERR | POLLIN));
        if (stop) {
            kill_all(target);
            while (waitpid(target, &status, 0) < 0 && errno == EINTR) {
            }
            return -1;
        }
    }
    kill_all(target);
    return -1;
}

static void kill_namespace(pid_t init) {
    /* PID 1 dying makes the kernel SIGKILL everything else in its pid namespace. */
    kill(init, SIGKILL);
}

/* --overlay-commit, after PID 1 ended: a setup that reached its workspace limit is a setup
 * error (whatever it exited with: it may have swallowed ENOSPC); one that passed has its upper
 * applied to the checkout. Returns -1 when that failed (reported). */
static int commit_setup(const struct fb_mount *m, int sock) {
    char byte;
    int upper = fb_receive_fd(sock, MSG_DONTWAIT, &byte);
    if (upper < 0) return 0; /* PID 1 failed before the overlay and said why */
    char passed = 0;
    fb_receive_fd(sock, MSG_DONTWAIT, &passed);
    int r = 0;
    if (fb_commit_limit_reached(upper)) {
        fb_fail("workspace-limit", ENOSPC);
        r = -1;
    } else if (passed == 'c') {
        int lower = open(m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lower < 0 || fb_commit_upper(upper, lower)) {
            fb_fail("workspace-commit", errno);
            r = -1;
        }
        if (lower >= 0) close(lower);
    }
    close(upper);
    return r;
}

/* Waits until PID 1 has built the root (a byte, or end of file if it failed), watching SIGTERM
 * and the lifeline meanwhile. Returns 0 when the attempt should go on. */
static int await_ready(const struct fb_plan *plan, int ready_fd, int sigfd) {
    struct pollfd fds[3] = {{.fd = ready_fd, .events = POLLIN},
                            {.fd = sigfd, .events = POLLIN},
                            {.fd = plan->lifeline_fd, .events = POLLIN}};
    for (;;) {
        int r = poll(fds, 3, -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if ((fds[1].revents & POLLIN) || (fds[2].revents & (POLLHUP | POLLERR | POLLIN))) return -1;
        if (fds[0].revents) break;
    }
    char byte;
    ssize_t n;
    while ((n = read(ready_fd, &byte, 1)) < 0 && errno == EINTR) {
    }
    /* End of file: PID 1 failed and reported why; the supervision below collects its end. */
    return 0;
}

/* A sandbox built ahead: waits for the rest of its arguments on the hold pipe (NUL-separated, up
 * to end of file) while watching SIGTERM and the lifeline. Returns their length (0: let go
 * unused), or -1 when the attempt was cut short. */
static ssize_t await_late(const struct fb_plan *plan, int sigfd, char **out) {
    size_t cap = 4096, n = 0;
    char *late = malloc(cap);
    if (!late) return fb_fail("hold", ENOMEM), -1;
    struct pollfd fds[3] = {{.fd = plan->hold_fd, .events = POLLIN},
                            {.fd = sigfd, .events = POLLIN},
                            {.fd = plan->lifeline_fd, .events = POLLIN}};
    for (;;) {
        int r = poll(fds, 3, -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || (fds[1].revents & POLLIN) || (fds[2].revents & (POLLHUP | POLLERR | POLLIN))) break;
        if (!fds[0].revents) continue;
        if (n == cap) {
            char *grown = realloc(late, cap *= 2);
            if (!grown) break;
            late = grown;
        }
        ssize_t got = read(plan->hold_fd, late + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) break;
        if (got == 0) {
            close(plan->hold_fd);
            *out = late;
            return (ssize_t)n;
        }
        n += (size_t)got;
    }
    free(late);
    return -1;
}

/* Writes all of `len` bytes; 0, or -1 (PID 1 died: its end is collected by the supervision). */
static int write_all(int fd, const char *bytes, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, bytes, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        bytes += w;
        len -= (size_t)w;
    }
    return 0;
}

static int run_namespaced(struct fb_plan *plan, int sigfd) {
    int go[2], ready[2];
    if (pipe2(go, O_CLOEXEC)) return fb_fail("pipe", errno), 1;
    if (pipe2(ready, O_CLOEXEC)) return fb_fail("pipe", errno), 1;
    int egress[2] = {-1, -1};
    if (plan->egress_port && plan->unshare_net) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, egress))
            return fb_fail("egress-pair", errno), 1;
        plan->egress_fd = egress[1];
        /* The proxy's connection children come back to us to be reaped when it is killed. */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    int commit[2] = {-1, -1};
    const struct fb_mount *committed = NULL;
    for (size_t k = 0; k < plan->n_mounts; k++)
        if (plan->mounts[k].commit) committed = &plan->mounts[k];
    if (committed) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, commit))
            return fb_fail("commit-pair", errno), 1;
        plan->commit_fd = commit[1];
    }
    unsigned long flags =
        CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | SIGCHLD;
    if (plan->unshare_net) flags |= CLONE_NEWNET;
    /* A raw clone of a single-threaded process: the child may use libc as a forked child would. */
    pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
    if (pid < 0) return fb_fail("clone", errno), 1;
    if (pid == 0) {
        if (plan->build_ahead) close(plan->hold_fd);
        close(go[1]);
        close(ready[0]);
        if (egress[0] >= 0) close(egress[0]);
        if (commit[0] >= 0) close(commit[0]);
        _exit(fb_sandbox_init(plan, go[0], ready[1]));
    }
    close(go[0]);
    close(ready[1]);
    /* The launcher writes no output (PID 1 has its own copies of the pipes): the output's end of
     * file comes with the sandbox's last writer, not with us (nor with the proxy, forked next). */
    fb_release_output(plan);
    if (egress[1] >= 0) close(egress[1]);
    if (commit[1] >= 0) close(commit[1]);
    fb_report_init_pid(pid);
    /* Moving a task between v1 cgroups costs about half a millisecond per hierarchy (an RCU
     * grace period); the child builds its root meanwhile and waits for the go byte only before
     * it forks the command, so every process of the test starts inside the cgroups. */
    if (join_cgroups(plan, pid)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 1;
    }
    /* The proxy starts, in the attempt's cgroups, before the command can make a connection. A
     * child that failed before handing its listener out has reported why; it ends on its own. */
    pid_t proxy = -1;
    if (egress[0] >= 0) {
        char byte;
        int listener = fb_receive_fd(egress[0], 0, &byte);
        close(egress[0]);
        if (listener >= 0) {
            proxy = fb_egress_start(listener, plan->egress_allow_private);
            close(listener);
            if (proxy < 0 || join_cgroups(plan, proxy)) {
                if (proxy < 0) fb_fail("egress-fork", errno);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                if (proxy > 0) kill(-proxy, SIGKILL), waitpid(proxy, NULL, 0);
                return 1;
            }
        }
    }
    if (await_ready(plan, ready[0], sigfd)) {
        kill_namespace(pid);
        waitpid(pid, NULL, 0);
        if (proxy > 0) kill(-proxy, SIGKILL), kill(proxy, SIGKILL), waitpid(proxy, NULL, 0);
        return 1;
    }
    close(ready[0]);
    if (plan->build_ahead) {
        /* Built and waiting: the attempt is asked for now, or never (end of file: let go). */
        char *late = NULL;
        ssize_t n = await_late(plan, sigfd, &late);
        if (n <= 0) {
            kill_namespace(pid);
            waitpid(pid, NULL, 0);
            if (proxy > 0) kill(-proxy, SIGKILL), kill(proxy, SIGKILL), waitpid(proxy, NULL, 0);
            return n == 0 ? 0 : 1;
        }
        fb_report_cpu_base(plan->cpu_usage_fd);
        /* A PID 1 that failed is gone: EPIPE, not SIGPIPE (nothing is forked here after this). */
        signal(SIGPIPE, SIG_IGN);
        if (write_all(go[1], "g", 1) == 0) write_all(go[1], late, (size_t)n);
        free(late);
    } else {
        fb_report_cpu_base(plan->cpu_usage_fd);
        if (write(go[1], "g", 1) != 1) fb_fail("sync", errno);
    }
    close(go[1]);
    int status = supervise(plan, pid, sigfd, kill_namespace, NULL);
    if (proxy > 0) {
        kill(-proxy, SIGKILL);
        kill(proxy, SIGKILL);
        /* The proxy, then its connection children (reparented to us); all were killed. */
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
        }
    }
    if (committed) {
        /* Every process of the sandbox is gone; what PID 1 handed out is still queued. */
        if (status != -1 && commit_setup(committed, commit[0])) status = -1;
        close(commit[0]);
    }
    if (status == -1) return 1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    fb_report_reaper(status);
    return 1;
}

static int run_minimal(struct fb_plan *plan, int sigfd) {
    /* Orphans of the test reparent to us, so that none outlives the attempt. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) return fb_fail("subreaper", errno), 1;
    if (join_cgroups(plan, getpid())) return 1;
    /* The launcher first: it performs the attempt's socket calls, so it must see no more of the
     * filesystem than the attempt (the worker adds a nested domain of its own, which keeps its
     * signals away from us). */
    if (plan->landlock) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return fb_fail("no_new_privs", errno), 1;
        if (fb_landlock_apply(plan, 1)) return 1;
    }
    fb_report_cpu_base(plan->cpu_usage_fd);
    /* Noise before the command, as children of ours: fb_kill_descendants ends them. */
    if (fb_noise_start(plan)) return 1;
    int chan[2] = {-1, -1};
    if (plan->net_guard && pipe2(chan, O_CLOEXEC)) return fb_fail("netguard-pipe", errno), 1;
    /* With the net guard the child shares our descriptor table until its execve, so that the
     * seccomp listener it creates is ours without pidfd_getfd (see netguard.h). */
    plan->launcher_pid = getpid();
    pid_t pid =
        plan->net_guard ? (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL) : fork();
    if (pid < 0) return fb_fail("fork", errno), 1;
    if (pid == 0) {
        plan->guard_fd = chan[1];
        _exit(fb_worker_exec(plan, 0));
    }
    /* The attempt runs as our uid: it must not read our memory nor take our descriptors. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct fb_guard guard = {.listener = -1,
                             .own = fb_netguard_address(getpid()),
                             .egress = plan->unshare_net     ? 0
                                       : plan->egress_public ? FB_EGRESS_PUBLIC
                                                             : 1};
    if (plan->net_guard) {
        guard.listener = fb_netguard_take(chan[0], pid);
        int saved = errno;
        /* Closing here closes in the child's table too, which is fine now: it wrote. */
        close(chan[0]);
        close(chan[1]);
        if (guard.listener < 0) {
            /* The child failed first (it reported why) or died. */
            if (saved != EPIPE) fb_fail("netguard-take", saved);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return 1;
        }
        /* Kernel 6.6+: a notification wakes us on the attempt's CPU and our answer wakes it on
         * ours, instead of a round of the scheduler each way (the path guard notifies often).
         * Older kernels refuse the flag; the guard works the same without it. */
        ioctl(guard.listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (uint64_t)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
        fb_pathguard_configure(plan);
    }
    fb_report_init_pid(pid);
    int status = supervise(plan, pid, sigfd, fb_kill_descendants, &guard);
    /* The uid is this attempt's alone: every process it left (a daemon that setsid'd and
     * double-forked away from us included) dies with the command. */
    if (plan->own_uid) kill(-1, SIGKILL);
    if (status != -1) {
        fb_collect_artifacts(plan);
        fb_report_exit(status);
    }
    fb_kill_descendants(0);
    return status == -1 ? 1 : 0;
}

/* The value of the first `name` option before "--", or NULL. */
static const char *option_value(int argc, char **argv, const char *name) {
    for (int i = 1; i + 1 < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

/* A pre-spawned launcher: joins its cgroups now (moving a task between v1 cgroups waits for an
 * RCU grace period, several ms), while the previous attempt still runs; then waits for the rest
 * of its arguments. Returns 1 with the new argv, 0 when the supervisor let it go unused. */
static int hold(int *argc, char ***argv) {
    int fd = atoi(option_value(*argc, *argv, "--hold-fd"));
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%d\n", getpid());
    for (int i = 1; i + 1 < *argc && strcmp((*argv)[i], "--") != 0; i++) {
        if (strcmp((*argv)[i], "--cgroup-procs") != 0) continue;
        int cg = open((*argv)[i + 1], O_WRONLY | O_CLOEXEC);
        if (cg < 0 || write(cg, pid, (size_t)len) != len) fb_fail_plain("cgroup-join", errno);
        if (cg >= 0) close(cg);
    }
    size_t cap = 4096, n = 0;
    char *late = malloc(cap);
    for (;;) {
        if (!late) return 0;
        if (n + 1 >= cap) late = realloc(late, cap *= 2);
        if (!late) return 0;
        ssize_t r = read(fd, late + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (n == 0) return 0;
    late[n] = 0;
    size_t count = 0;
    for (size_t k = 0; k < n; k++)
        if (late[k] == 0) count++;
    if (late[n - 1] != 0) count++;
    char **out = calloc((size_t)*argc + count + 1, sizeof(char *));
    if (!out) return 0;
    int o = 0;
    for (int k = 0; k < *argc; k++)
        out[o++] = (*argv)[k];
    for (size_t k = 0; k < n;) {
        out[o++] = late + k;
        k += strlen(late + k) + 1;
    }
    out[o] = NULL;
    *argc = o;
    *argv = out;
    return 1;
}

/* One attempt's launcher: executed by the supervisor, or forked by the server (server.c). */
static int launcher_main(int argc, char **argv) {
    fb_reset_signals();
    struct fb_plan plan;
    if (fb_expand_args(&argc, &argv)) return 125;
    int held = option_value(argc, argv, "--hold-fd") != NULL;
    /* Built ahead (namespaces only): PID 1 builds the whole sandbox before the rest of the
     * arguments arrive, so they may not change it (see run_namespaced). */
    int ahead = 0;
    if (held) {
        if (fb_plan_parse_base(&plan, argc, argv, 1)) return 125;
        ahead = plan.build_ahead && plan.namespaces && !plan.argv;
    }
    if (!ahead) {
        if (held && !hold(&argc, &argv)) return 0;
        if (fb_plan_parse(&plan, argc, argv)) return 125;
        plan.build_ahead = 0;
        /* Already in the cgroups: children inherit them. */
        if (held) plan.n_cgroups = 0;
    }
    fb_report_set_fd(plan.report_fd);
    if (load_bpf(&plan)) return fb_fail("seccomp-read", errno), 1;
    close_unplanned_fds(&plan);
    if (lifeline_broken(&plan)) return 1;

    /* The kernel's OOM killer should pick a sandbox before the supervisor. */
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        char v[16];
        int len = snprintf(v, sizeof v, "%d", plan.oom_score_adj);
        if (write(fd, v, (size_t)len) < 0 && plan.oom_score_adj < 0) fb_fail("oom-score-adj", errno);
        close(fd);
    }
    if (open_cgroups(&plan)) return 1;
    if (ahead) {
        /* Into the cgroups first: PID 1 and everything it starts inherit them. */
        if (join_cgroups(&plan, getpid())) return 1;
        for (size_t k = 0; k < plan.n_cgroups; k++)
            close(plan.cgroup_fds[k]);
        plan.n_cgroups = 0;
    }
    if (drop_host_ids(&plan)) return 1;

    /* SIGTERM (from the supervisor, on timeout or cancel) means: kill the whole attempt, then exit. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigaddset(&term, SIGHUP);
    sigprocmask(SIG_BLOCK, &term, NULL);
    int sigfd = signalfd(-1, &term, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) return fb_fail("signalfd", errno), 1;

    return plan.namespaces ? run_namespaced(&plan, sigfd) : run_minimal(&plan, sigfd);
}

int main(int argc, char **argv) {
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "--serve") == 0)
        return fb_serve(atoi(argv[2]), argc == 4 ? atoi(argv[3]) : -1, launcher_main);
    return launcher_main(argc, argv);
}
