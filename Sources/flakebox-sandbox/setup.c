/*
 * Inside the sandbox: id maps, the new root, the reaper and the worker, in the order of
 * docs/SANDBOX.md §10. Every failure is reported as {stage, errno} and ends the attempt as a
 * sandbox error, never as a test failure.
 */
#include "setup.h"

#include "artifact.h"
#include "fdpass.h"
#include "landlock.h"
#include "netguard.h"
#include "noise.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct fb_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};

/* The host directory the new root is staged on; a tmpfs over it is private to our mount
 * namespace, and every bind source is opened before it is mounted, so nothing is shadowed. */
#define STAGE "/tmp"

void fb_reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        sigaction(s, &dfl, NULL); /* EINVAL for glibc-reserved real-time signals is fine */
    }
}

/* Sets both limits of `resource` to `value`. Above the inherited hard limit that needs
 * CAP_SYS_RESOURCE (a container build step caps nofile at 1024): the inherited one, which is
 * stricter, is kept then rather than failing every attempt. */
static int set_limit(int resource, rlim_t value) {
    struct rlimit rl = {value, value};
    if (setrlimit(resource, &rl) == 0) return 0;
    struct rlimit inherited;
    if (errno != EPERM || getrlimit(resource, &inherited) || inherited.rlim_max >= value) return -1;
    rl.rlim_cur = rl.rlim_max = inherited.rlim_max;
    return setrlimit(resource, &rl);
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int e = errno;
    close(fd);
    if (w != (ssize_t)len) {
        errno = w < 0 ? e : EIO;
        return -1;
    }
    return 0;
}

/* Maps `inside` to `outside` (a single id, our own) in the current user namespace. */
static int map_ids(uid_t inside_uid, uid_t outside_uid, gid_t inside_gid, gid_t outside_gid) {
    char line[64];
    snprintf(line, sizeof line, "%u %u 1\n", inside_uid, outside_uid);
    if (write_file("/proc/self/uid_map", line)) return fb_fail("uid_map", errno), -1;
    if (write_file("/proc/self/setgroups", "deny") && errno != ENOENT) return fb_fail("setgroups", errno), -1;
    snprintf(line, sizeof line, "%u %u 1\n", inside_gid, outside_gid);
    if (write_file("/proc/self/gid_map", line)) return fb_fail("gid_map", errno), -1;
    return 0;
}

static int loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    int r = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (r == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int e = errno;
    close(s);
    errno = e;
    return r;
}

/* mkdir -p for the parents of path (not path itself). */
static int make_parents(const char *path) {
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof buf) return errno = ENAMETOOLONG, -1;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

static int set_attrs(const char *path, uint64_t attrs, int recursive) {
    struct fb_mount_attr a = {.attr_set = attrs};
    if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a, sizeof a) == 0) return 0;
    if (errno != ENOSYS) return -1;
    /* Before 5.12: a non-recursive remount of the bind. */
    unsigned long flags = MS_REMOUNT | MS_BIND;
    if (attrs & MOUNT_ATTR_RDONLY) flags |= MS_RDONLY;
    if (attrs & MOUNT_ATTR_NOSUID) flags |= MS_NOSUID;
    if (attrs & MOUNT_ATTR_NODEV) flags |= MS_NODEV;
    if (attrs & MOUNT_ATTR_NOEXEC) flags |= MS_NOEXEC;
    return mount(NULL, path, NULL, flags, NULL);
}

static void fd_path(char *out, size_t size, int fd) {
    snprintf(out, size, "/proc/self/fd/%d", fd);
}

/* Creates the mount point at `target` shaped like the thing to be mounted there. */
static int make_mountpoint(const char *target, int is_dir) {
    if (make_parents(target)) return -1;
    if (is_dir) return mkdir(target, 0755) && errno != EEXIST ? -1 : 0;
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

static int mount_bind(const struct fb_mount *m, const char *target, int readonly) {
    struct stat st;
    if (fstat(m->source_fd, &st)) return fb_fail("bind-source", errno), -1;
    if (make_mountpoint(target, S_ISDIR(st.st_mode))) return fb_fail("bind-target", errno), -1;
    char src[64];
    fd_path(src, sizeof src, m->source_fd);
    if (mount(src, target, NULL, MS_BIND | MS_REC, NULL)) return fb_fail("bind", errno), -1;
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0);
    if (set_attrs(target, attrs, 1)) return fb_fail("bind-remount", errno), -1;
    return 0;
}

static int mount_tmpfs(const char *target, const char *mode, uint64_t size, uint64_t inodes,
                       unsigned long flags, const char *stage) {
    if (make_mountpoint(target, 1)) return fb_fail(stage, errno), -1;
    char opts[128];
    int n = snprintf(opts, sizeof opts, "mode=%s", mode);
    if (size) n += snprintf(opts + n, sizeof opts - (size_t)n, ",size=%llu", (unsigned long long)size);
    if (inodes) snprintf(opts + n, sizeof opts - (size_t)n, ",nr_inodes=%llu", (unsigned long long)inodes);
    if (mount("tmpfs", target, "tmpfs", flags, opts)) return fb_fail(stage, errno), -1;
    return 0;
}

/* Upper and work directories live on a tmpfs of their own, so a test that fills the workspace
 * hits that tmpfs's size (ENOSPC) and never the host disk. The scratch mount is detached after
 * pivot_root; overlayfs keeps its own reference to it. */
/* --overlay-commit: the upper goes to the helper now, while its path still resolves; the
 * helper applies it to the checkout once the command has passed and every process is gone. */
static int hand_out_upper(struct fb_plan *plan, const char *upper) {
    int fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fb_fail("overlay-upper", errno), -1;
    int r = fb_send_fd(plan->commit_fd, fd, 'u');
    int saved = errno;
    close(fd);
    if (r) return fb_fail("overlay-hand-out", saved), -1;
    return 0;
}

static int mount_overlay(struct fb_plan *plan, const struct fb_mount *m, const char *target, size_t index) {
    char scratch[128], upper[160], work[160];
    snprintf(scratch, sizeof scratch, STAGE "/.fb-scratch-%zu", index);
    if (mount_tmpfs(scratch, "0755", m->size, m->inodes, MS_NOSUID | MS_NODEV, "overlay-scratch")) return -1;
    snprintf(upper, sizeof upper, "%s/upper", scratch);
    snprintf(work, sizeof work, "%s/work", scratch);
    if (mkdir(upper, 0755) || mkdir(work, 0755)) return fb_fail("overlay-dirs", errno), -1;
    if (make_mountpoint(target, 1)) return fb_fail("overlay-target", errno), -1;
    /* The lower is named through its pre-opened fd: no escaping of ',' ':' '\' in host paths,
     * and /proc/self/mountinfo inside shows no host path. userxattr: a user namespace has no
     * trusted.* xattrs, and without it removing a lower directory fails with EIO. */
    char opts[512];
    snprintf(opts, sizeof opts, "lowerdir=/proc/self/fd/%d,upperdir=%s,workdir=%s,userxattr", m->source_fd,
             upper, work);
    if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, opts)) return fb_fail("overlay", errno), -1;
    if (m->commit && hand_out_upper(plan, upper)) return -1;
    return 0;
}

static const char *const proc_readonly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs", NULL};
/* Host-wide information a test has no business reading (runc's maskedPaths). */
static const char *const proc_masked_files[] = {"kcore",         "keys",        "timer_list", "sched_debug",
                                                "latency_stats", "timer_stats", "kallsyms",   NULL};
static const char *const proc_masked_dirs[] = {"acpi", "scsi", "driver", NULL};

static int mount_proc(const char *target) {
    if (make_mountpoint(target, 1)) return fb_fail("proc-target", errno), -1;
    if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
        return fb_fail("proc", errno), -1;
    char path[4352];
    /* One user namespace more (the worker's nested one) and no further: nested namespaces are
     * the door to "root" in mount and netfilter code (bubblewrap's --disable-userns). seccomp
     * denies them too; this is the second lock. */
    snprintf(path, sizeof path, "%s/sys/user/max_user_namespaces", target);
    write_file(path, "1");
    for (const char *const *p = proc_readonly; *p; p++) {
        snprintf(path, sizeof path, "%s/%s", target, *p);
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL)) {
            if (errno == ENOENT) continue;
            return fb_fail("proc-readonly", errno), -1;
        }
        if (set_attrs(path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 1))
            return fb_fail("proc-readonly", errno), -1;
    }
    for (const char *const *p = proc_masked_files; *p; p++) {
        snprintf(path, sizeof path, "%s/%s", target, *p);
        if (access(path, F_OK)) continue;
        if (mount("/dev/null", path, NULL, MS_BIND, NULL)) return fb_fail("proc-mask", errno), -1;
    }
    for (const char *const *p = proc_masked_dirs; *p; p++) {
        snprintf(path, sizeof path, "%s/%s", target, *p);
        if (access(path, F_OK)) continue;
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555"))
            return fb_fail("proc-mask", errno), -1;
    }
    return 0;
}

static int mount_dev(const char *target, uint64_t shm_size) {
    if (mount_tmpfs(target, "0755", 1 << 16, 64, MS_NOSUID | MS_NOEXEC, "dev")) return -1;
    static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", NULL};
    char path[4352], host[64];
    for (const char *const *n = nodes; *n; n++) {
        snprintf(path, sizeof path, "%s/%s", target, *n);
        snprintf(host, sizeof host, "/dev/%s", *n);
        if (make_mountpoint(path, 0) || mount(host, path, NULL, MS_BIND, NULL))
            return fb_fail("dev-node", errno), -1;
    }
    static const char *const links[][2] = {{"/proc/self/fd", "fd"},
                                           {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"}};
    for (size_t k = 0; k < sizeof links / sizeof links[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", target, links[k][1]);
        if (symlink(links[k][0], path)) return fb_fail("dev-link", errno), -1;
    }
    snprintf(path, sizeof path, "%s/shm", target);
    return mount_tmpfs(path, "1777", shm_size, 0, MS_NOSUID | MS_NODEV, "dev-shm");
}

static int write_small_file(const char *target, const char *content) {
    if (make_parents(target)) return -1;
    int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    size_t len = strlen(content);
    ssize_t w = write(fd, content, len);
    close(fd);
    return w == (ssize_t)len ? 0 : -1;
}

static int open_sources(struct fb_plan *plan) {
    for (size_t k = 0; k < plan->n_mounts; k++) {
        struct fb_mount *m = &plan->mounts[k];
        if (m->kind != FB_MOUNT_RO_BIND && m->kind != FB_MOUNT_BIND && m->kind != FB_MOUNT_OVERLAY) continue;
        m->source_fd = open(m->source, O_PATH | O_CLOEXEC);
        if (m->source_fd < 0)
            return fb_fail(m->kind == FB_MOUNT_OVERLAY ? "overlay-lower" : "bind-source", errno), -1;
    }
    return 0;
}

static int build_root(struct fb_plan *plan) {
    if (open_sources(plan)) return -1;
    if (mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=8m,nr_inodes=4096"))
        return fb_fail("root-tmpfs", errno), -1;
    char target[4096];
    size_t overlays = 0;
    for (size_t k = 0; k < plan->n_mounts; k++) {
        const struct fb_mount *m = &plan->mounts[k];
        if (snprintf(target, sizeof target, STAGE "%s", m->dest) >= (int)sizeof target)
            return fb_fail("path", ENAMETOOLONG), -1;
        int r = 0;
        switch (m->kind) {
        case FB_MOUNT_RO_BIND:
            r = mount_bind(m, target, 1);
            break;
        case FB_MOUNT_BIND:
            r = mount_bind(m, target, 0);
            break;
        case FB_MOUNT_OVERLAY:
            r = mount_overlay(plan, m, target, overlays++);
            break;
        case FB_MOUNT_TMPFS:
            r = mount_tmpfs(target, "1777", m->size, m->inodes, MS_NOSUID | MS_NODEV, "tmpfs");
            break;
        case FB_MOUNT_PROC:
            r = mount_proc(target);
            break;
        case FB_MOUNT_DEV:
            r = mount_dev(target, m->size);
            break;
        case FB_MOUNT_DIR:
            if (make_mountpoint(target, 1)) r = -1, fb_fail("dir", errno);
            break;
        case FB_MOUNT_SYMLINK:
            if (make_parents(target) || symlink(m->source, target)) r = -1, fb_fail("symlink", errno);
            break;
        case FB_MOUNT_FILE:
            if (write_small_file(target, m->source)) r = -1, fb_fail("file", errno);
            break;
        }
        if (r) return -1;
    }
    for (size_t k = 0; k < plan->n_mounts; k++)
        if (plan->mounts[k].source_fd >= 0) close(plan->mounts[k].source_fd);

    /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves no path back. */
    if (chdir(STAGE)) return fb_fail("chdir-stage", errno), -1;
    if (syscall(SYS_pivot_root, ".", ".")) return fb_fail("pivot_root", errno), -1;
    if (umount2(".", MNT_DETACH)) return fb_fail("umount-oldroot", errno), -1;
    if (chdir("/")) return fb_fail("chdir-root", errno), -1;
    for (size_t k = 0; k < overlays; k++) {
        char scratch[64];
        snprintf(scratch, sizeof scratch, "/.fb-scratch-%zu", k);
        if (umount2(scratch, MNT_DETACH) || rmdir(scratch)) return fb_fail("scratch-detach", errno), -1;
    }
    for (size_t k = 0; k < plan->n_mounts; k++) {
        if (plan->mounts[k].kind != FB_MOUNT_DEV) continue;
        if (set_attrs(plan->mounts[k].dest, MOUNT_ATTR_RDONLY, 0)) return fb_fail("dev-readonly", errno), -1;
    }
    if (set_attrs("/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0))
        return fb_fail("root-readonly", errno), -1;
    return 0;
}

int fb_drop_capabilities(void) {
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data)) return fb_fail("capget", errno), -1;
    int holds_any = data[0].permitted || data[1].permitted;
    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 || errno == EINVAL) continue;
        /* Without CAP_SETPCAP (an unprivileged process, minimal tier) the bounding set cannot
         * shrink; with nothing permitted and no_new_privs next, it cannot grant anything either. */
        if (errno == EPERM && !holds_any) break;
        return fb_fail("capbset", errno), -1;
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
        return fb_fail("ambient", errno), -1;
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data)) return fb_fail("capset", errno), -1;
    return 0;
}

/* execvpe without the allocation: PATH comes from the command's own environment. */
static void exec_command(char **argv, char **env) {
    const char *name = argv[0];
    if (strchr(name, '/')) {
        execve(name, argv, env);
        return;
    }
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (char **e = env; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
    int saved = ENOENT;
    char full[4096];
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && len + strlen(name) + 2 < sizeof full) {
            memcpy(full, path, len);
            full[len] = '/';
            strcpy(full + len + 1, name);
            execve(full, argv, env);
            if (errno != ENOENT && errno != ENOTDIR) saved = errno;
        }
        path += len + (end ? 1 : 0);
    }
    errno = saved;
}

/* The words of a plain shell command that could not be executed, joined and run by /bin/sh -c:
 * the shell then says why (not found: 127, not executable: 126) or runs a script without `#!`,
 * as it would have had it run the command in the first place. errno is kept when it cannot. */
static void exec_shell(char **argv, char **env) {
    static char line[65536];
    int saved = errno;
    size_t n = 0;
    for (char **w = argv; *w; w++) {
        size_t len = strlen(*w);
        if (n + len + 2 > sizeof line) {
            errno = saved;
            return;
        }
        if (n) line[n++] = ' ';
        memcpy(line + n, *w, len);
        n += len;
    }
    line[n] = 0;
    char *shell[] = {"/bin/sh", "-c", line, NULL};
    execve(shell[0], shell, env);
    errno = saved;
}

int fb_worker_exec(struct fb_plan *plan, int nested) {
    fb_reset_signals();
    if (setsid() < 0) return fb_fail("setsid", errno), 127;
    /* Minimal tier: the worker dies with its launcher. Under the net guard it shares the
     * launcher's descriptor table, so it holds the notification listener itself: were the
     * launcher killed while the worker waits on a notified call (its execve's path), nothing
     * would ever answer and the worker would wait forever, an orphan. */
    if (!nested && plan->launcher_pid > 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)) return fb_fail("pdeathsig", errno), 127;
        if (getppid() != plan->launcher_pid) return 127;
    }
    if (nested) {
        /* The nested user namespace makes every mount above MNT_LOCKED (no umount to uncover
         * /proc/sys), and the test runs as an ordinary uid that owns the workspace. */
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS)) return fb_fail("nested-userns", errno), 127;
        if (map_ids(plan->inner_uid, 0, plan->inner_gid, 0)) return 127;
    }
    if (plan->chdir && chdir(plan->chdir)) return fb_fail("chdir", errno), 127;
    umask(022);
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CORE, &core);
    for (size_t k = 0; k < plan->n_rlimits; k++) {
        if (set_limit(plan->rlimits[k].resource, plan->rlimits[k].value))
            return fb_fail("rlimit", errno), 127;
    }
    /* Everything above 2 closes at execve: the report pipe stays usable until then. */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)) return fb_fail("close_range", errno), 127;
    if (fb_drop_capabilities()) return 127;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return fb_fail("no_new_privs", errno), 127;
    /* Before the policy's filter, which may refuse seccomp(2) itself. */
    /* Landlock first: it opens and closes descriptors, and after the net guard's hand-over the
     * table (shared with the launcher) must stay as it is. */
    if (plan->landlock && fb_landlock_apply(plan, 0)) return 127;
    if (plan->guard_fd >= 0 && fb_netguard_install(plan->guard_fd, plan->n_private_paths > 0)) return 127;
    if (plan->bpf) {
        struct sock_fprog prog = {.len = (unsigned short)(plan->bpf_len / 8),
                                  .filter = (struct sock_filter *)plan->bpf};
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) return fb_fail("seccomp", errno), 127;
    }
    exec_command(plan->argv, plan->env);
    if (plan->shell_fallback) exec_shell(plan->argv, plan->env);
    fb_fail("execve", errno);
    return 127;
}

/* Closes every descriptor from 3 up except `a`, `b` and `c` (any may be -1). */
static void close_all_but(int a, int b, int c) {
    int keep[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (keep[j] < keep[i]) {
                int t = keep[i];
                keep[i] = keep[j];
                keep[j] = t;
            }
    unsigned int from = 3;
    for (int k = 0; k < 3; k++) {
        if (keep[k] < (int)from) continue;
        if ((unsigned int)keep[k] > from) close_range(from, (unsigned int)keep[k] - 1, 0);
        from = (unsigned int)keep[k] + 1;
    }
    close_range(from, ~0U, 0);
}

/* network: proxy: a listening socket on this namespace's 127.0.0.1, handed to the helper, whose
 * proxy accepts on it from the host's namespace. None of it stays here: the sandbox cannot
 * accept on it, and the port is taken, so nothing in the sandbox can pose as the proxy. */
static int hand_out_egress_listener(struct fb_plan *plan) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return fb_fail("egress-socket", errno), -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)plan->egress_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 64)) return fb_fail("egress-listen", errno), -1;
    if (fb_send_fd(plan->egress_fd, s, 'l')) return fb_fail("egress-hand-out", errno), -1;
    close(s);
    close(plan->egress_fd);
    plan->egress_fd = -1;
    return 0;
}

void fb_release_output(const struct fb_plan *plan) {
    /* Without a report pipe, failures are told on stderr: keep it. */
    if (plan->report_fd < 0) return;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) return;
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
}

/* The rest of a held launcher's arguments, NUL-separated, up to end of file on the go pipe. */
static int receive_late(struct fb_plan *plan, int fd) {
    size_t cap = 4096, n = 0;
    char *late = malloc(cap);
    for (;;) {
        if (!late) return fb_fail("late-arguments", ENOMEM), -1;
        if (n + 1 >= cap) {
            char *grown = realloc(late, cap *= 2);
            if (!grown) free(late);
            late = grown;
            continue;
        }
        ssize_t r = read(fd, late + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fb_fail("late-arguments", errno), -1;
        if (r == 0) break;
        n += (size_t)r;
    }
    late[n] = 0;
    size_t count = 0;
    for (size_t k = 0; k < n; k += strlen(late + k) + 1)
        count++;
    char **argv = calloc(count + 2, sizeof(char *));
    if (!argv) return fb_fail("late-arguments", ENOMEM), -1;
    size_t o = 0;
    argv[o++] = "flakebox-sandbox";
    for (size_t k = 0; k < n; k += strlen(late + k) + 1)
        argv[o++] = late + k;
    argv[o] = NULL;
    if (fb_plan_parse_late(plan, (int)o, argv)) return fb_fail("late-arguments", EINVAL), -1;
    return 0;
}

int fb_sandbox_init(struct fb_plan *plan, int go_fd, int ready_fd) {
    fb_reset_signals();
    /* PDEATHSIG first, then a look at the go pipe: a helper that died before prctl shows as a
     * hang-up (bubblewrap#633). The byte itself is awaited before the command is forked. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)) return 1;
    for (size_t k = 0; k < plan->n_cgroups; k++)
        close(plan->cgroup_fds[k]);
    if (plan->cpu_usage_fd >= 0) close(plan->cpu_usage_fd);
    struct pollfd lifeline = {.fd = go_fd, .events = POLLIN};
    if (poll(&lifeline, 1, 0) > 0 && (lifeline.revents & POLLHUP) && !(lifeline.revents & POLLIN)) return 1;

    if (map_ids(0, plan->uid, 0, plan->gid)) return 1;
    if (plan->hostname && sethostname(plan->hostname, strlen(plan->hostname)))
        return fb_fail("sethostname", errno), 1;
    if (plan->unshare_net && loopback_up()) return fb_fail("loopback", errno), 1;
    if (plan->egress_fd >= 0 && hand_out_egress_listener(plan)) return 1;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) return fb_fail("make-private", errno), 1;
    if (build_root(plan)) return 1;
    /* Built: the helper reads the cgroup's CPU usage now, before the command's share begins. */
    if (write(ready_fd, "r", 1) != 1) return 1;
    close(ready_fd);

    /* The helper has moved us into the attempt's cgroups once this byte arrives; a sandbox built
     * ahead then gets its environment, noise and command behind it. */
    char go;
    if (read(go_fd, &go, 1) != 1) return 1;
    if (plan->build_ahead && receive_late(plan, go_fd)) return 1;
    close(go_fd);
    /* Stress noise first, so the test meets it from its first instruction. */
    if (fb_noise_start(plan)) return 1;
    pid_t worker = fork();
    if (worker < 0) return fb_fail("fork", errno), 1;
    if (worker == 0) _exit(fb_worker_exec(plan, 1));

    /* The reaper: nothing to read in its memory, no capabilities, no descriptors but the
     * report and artifact pipes. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    close_all_but(plan->report_fd, plan->artifact_fd, plan->commit_fd);
    /* Nor the output pipes: their end of file then tells the supervisor that every process that
     * could write them is gone, without waiting for us (see fb_release_output). */
    fb_release_output(plan);
    fb_drop_capabilities();
    for (;;) {
        int status;
        pid_t w = waitpid(-1, &status, 0);
        if (w == worker) {
            fb_collect_artifacts(plan);
            fb_report_exit(status);
            /* The helper applies setup's writes only after a command that passed. */
            if (plan->commit_fd >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                fb_send_fd(plan->commit_fd, -1, 'c');
            return 0;
        }
        if (w < 0 && errno == ECHILD) return 1;
    }
}

static size_t read_children(pid_t pid, pid_t *out, size_t max) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    size_t count = 0;
    for (char *p = buf; *p && count < max;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) break;
        out[count++] = (pid_t)v;
        p = end;
        while (*p == ' ')
            p++;
    }
    return count;
}

/* Stops a subtree first (so it cannot fork faster than we kill), then kills it. */
static void kill_tree(pid_t pid, int depth) {
    kill(pid, SIGSTOP);
    if (depth < 64) {
        pid_t kids[256];
        size_t n = read_children(pid, kids, 256);
        for (size_t k = 0; k < n; k++)
            kill_tree(kids[k], depth + 1);
    }
    kill(pid, SIGKILL);
}

void fb_kill_descendants(pid_t root) {
    if (root > 0) {
        kill(-root, SIGKILL);
        kill_tree(root, 0);
    }
    /* Orphans reparent to us (subreaper): repeat until no child is left, for at most ~10 s. */
    for (int round = 0; round < 10000; round++) {
        pid_t kids[256];
        size_t n = read_children(getpid(), kids, 256);
        for (size_t k = 0; k < n; k++)
            kill_tree(kids[k], 0);
        int status, reaped = 0;
        pid_t w;
        while ((w = waitpid(-1, &status, WNOHANG)) > 0)
            reaped++;
        if (w < 0 && errno == ECHILD) return;
        if (!reaped) usleep(1000);
    }
}
