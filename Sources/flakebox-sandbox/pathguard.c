#include "pathguard.h"

#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* A call that takes paths: the argument indexes of up to two of them (-1: none), of the flags
 * that say "the descriptor, not a path" (AT_EMPTY_PATH), which the filter lets through, and
 * whether it looks at a last symlink rather than through it (NOFOLLOW_ALWAYS, or the index of
 * flags that may hold AT_SYMLINK_NOFOLLOW). */
struct path_call {
    int nr;
    signed char path[2];
    signed char empty_flags;
    signed char nofollow;
};
#define NOFOLLOW_ALWAYS (-2)

static const struct path_call calls[] = {
#ifdef SYS_open
    {SYS_open, {0, -1}, -1, -1},
    {SYS_creat, {0, -1}, -1, -1},
    {SYS_stat, {0, -1}, -1, -1},
    {SYS_lstat, {0, -1}, -1, NOFOLLOW_ALWAYS},
    {SYS_access, {0, -1}, -1, -1},
    {SYS_mkdir, {0, -1}, -1, -1},
    {SYS_rmdir, {0, -1}, -1, -1},
    {SYS_unlink, {0, -1}, -1, -1},
    {SYS_rename, {0, 1}, -1, -1},
    {SYS_link, {0, 1}, -1, -1},
    {SYS_symlink, {0, 1}, -1, -1},
    {SYS_readlink, {0, -1}, -1, NOFOLLOW_ALWAYS},
    {SYS_chmod, {0, -1}, -1, -1},
    {SYS_chown, {0, -1}, -1, -1},
    {SYS_lchown, {0, -1}, -1, NOFOLLOW_ALWAYS},
    {SYS_utime, {0, -1}, -1, -1},
    {SYS_utimes, {0, -1}, -1, -1},
    {SYS_futimesat, {1, -1}, -1, -1},
    {SYS_mknod, {0, -1}, -1, -1},
#endif
    {SYS_openat, {1, -1}, -1, -1},
    {SYS_openat2, {1, -1}, -1, -1},
#ifdef SYS_newfstatat
    {SYS_newfstatat, {1, -1}, 3, 3},
#endif
    {SYS_statx, {1, -1}, 2, 2},
    {SYS_faccessat, {1, -1}, -1, -1},
    {SYS_faccessat2, {1, -1}, -1, -1},
    {SYS_mkdirat, {1, -1}, -1, -1},
    {SYS_unlinkat, {1, -1}, -1, -1},
    {SYS_renameat, {1, 3}, -1, -1},
    {SYS_renameat2, {1, 3}, -1, -1},
    {SYS_linkat, {1, 3}, -1, -1},
    {SYS_symlinkat, {0, 2}, -1, -1},
    {SYS_readlinkat, {1, -1}, -1, NOFOLLOW_ALWAYS},
    {SYS_fchmodat, {1, -1}, -1, -1},
    {SYS_fchmodat2, {1, -1}, -1, -1},
    {SYS_fchownat, {1, -1}, -1, -1},
    {SYS_utimensat, {1, -1}, -1, -1},
    {SYS_truncate, {0, -1}, -1, -1},
    {SYS_mknodat, {1, -1}, -1, -1},
    {SYS_chdir, {0, -1}, -1, -1},
    {SYS_execve, {0, -1}, -1, -1},
    {SYS_execveat, {1, -1}, -1, -1},
    {SYS_statfs, {0, -1}, -1, -1},
    {SYS_getxattr, {0, -1}, -1, -1},
    {SYS_lgetxattr, {0, -1}, -1, NOFOLLOW_ALWAYS},
    {SYS_setxattr, {0, -1}, -1, -1},
    {SYS_lsetxattr, {0, -1}, -1, -1},
    {SYS_listxattr, {0, -1}, -1, -1},
    {SYS_llistxattr, {0, -1}, -1, NOFOLLOW_ALWAYS},
    {SYS_removexattr, {0, -1}, -1, -1},
    {SYS_lremovexattr, {0, -1}, -1, -1},
    {SYS_inotify_add_watch, {1, -1}, -1, -1},
};
#define N_CALLS (sizeof calls / sizeof calls[0])

/* The directories ("/tmp") and their aliases ("/.k3"), from the plan; and the paths it names for
 * Landlock, which stay the host's even beneath /tmp (the attempt's own copy and scratch live in
 * the supervisor's temporary directory). */
static const struct fb_private_path *table;
static size_t table_len;
static const struct fb_landlock_path *kept;
static size_t kept_len;

void fb_pathguard_configure(const struct fb_plan *plan) {
    table = plan->private_paths;
    table_len = plan->n_private_paths;
    kept = plan->landlock_paths;
    kept_len = plan->n_landlock;
}

/* Is `p` one of the plan's own paths or beneath one? */
static int planned(const char *p, size_t len) {
    for (size_t k = 0; k < kept_len; k++) {
        size_t n = strlen(kept[k].path);
        while (n > 1 && kept[k].path[n - 1] == '/')
            n--;
        if (len >= n && memcmp(p, kept[k].path, n) == 0 && (len == n || p[n] == '/')) return 1;
    }
    return 0;
}

size_t fb_pathguard_filter(struct sock_filter *code, size_t cap) {
    size_t n = 0;
    for (size_t k = 0; k < N_CALLS; k++) {
        const struct path_call *c = &calls[k];
        if (n + 5 > cap) return 0;
        if (c->empty_flags < 0) {
            code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)c->nr, 0, 1);
            code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
            continue;
        }
        /* fstat() is newfstatat(fd, "", AT_EMPTY_PATH): a third of Python's path calls. */
        code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)c->nr, 0, 4);
        code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                 offsetof(struct seccomp_data, args[0]) +
                                                     (uint32_t)c->empty_flags * sizeof(uint64_t));
        code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, AT_EMPTY_PATH, 0, 1);
        code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    }
    return n;
}

static const struct path_call *find(int nr) {
    for (size_t k = 0; k < N_CALLS; k++)
        if (calls[k].nr == nr) return &calls[k];
    return NULL;
}

int fb_pathguard_notified(int nr) {
    return table_len > 0 && find(nr) != NULL;
}

/* Does a ".." component follow `from`? Such a path is left as written: resolved from the alias,
 * it would climb out of the private directory instead of out of /tmp. */
static int climbs(const char *p, size_t len) {
    for (size_t k = 0; k + 2 < len; k++)
        if (p[k] == '/' && p[k + 1] == '.' && p[k + 2] == '.' && (k + 3 == len || p[k + 3] == '/')) return 1;
    return 0;
}

/* Which table entry `p` (len bytes) lies beneath, and where its prefix ends; -1 when none. */
static int match(const char *p, size_t len, size_t *prefix) {
    if (len == 0 || p[0] != '/') return -1;
    size_t s = 0;
    while (s < len && p[s] == '/')
        s++;
    for (size_t k = 0; k < table_len; k++) {
        const char *name = table[k].from + 1;
        size_t nl = strlen(name);
        if (len < s + nl || memcmp(p + s, name, nl) != 0) continue;
        if (s + nl < len && p[s + nl] != '/' && p[s + nl] != 0) continue;
        *prefix = s + nl;
        return (int)k;
    }
    return -1;
}

/* Replaces the prefix of `p` in place; the caller checked the rest. Returns the bytes changed. */
static size_t replace(char *p, size_t prefix, int k) {
    size_t al = strlen(table[k].alias);
    memcpy(p, table[k].alias, al);
    memset(p + al, '/', prefix - al);
    return prefix;
}

int fb_pathguard_rewrite(char *path, size_t len) {
    size_t end = strnlen(path, len), prefix;
    int k = match(path, end, &prefix);
    if (k < 0 || climbs(path + prefix, end - prefix) || planned(path, end)) return 0;
    replace(path, prefix, k);
    return 1;
}

long fb_pathguard_handle(int listener, const struct seccomp_notif *req) {
    const struct path_call *c = find(req->data.nr);
    if (!c) return FB_CONTINUE;
    pid_t pid = (pid_t)req->pid;
    for (int i = 0; i < 2; i++) {
        if (c->path[i] < 0) continue;
        uint64_t addr = req->data.args[(int)c->path[i]];
        if (addr == 0) continue; /* utimensat(fd, NULL, ...) */
        /* The common case first: the first bytes decide, and most paths are not ours. */
        char head[64];
        long n = fb_target_read_string(pid, head, addr, sizeof head);
        if (n == -ENAMETOOLONG) n = (long)sizeof head;
        if (n < 0) continue; /* the kernel reports the bad address itself */
        size_t prefix;
        int k = match(head, (size_t)n, &prefix);
        if (k < 0) continue;
        char path[PATH_MAX];
        long len = fb_target_read_string(pid, path, addr, sizeof path);
        /* Matched again: a second thread may have changed the string since the first read. */
        if (len < 0 || (k = match(path, (size_t)len, &prefix)) < 0) continue;
        if (climbs(path + prefix, (size_t)len - prefix) || planned(path, (size_t)len)) continue;
        /* lstat("/tmp") and readlink("/tmp") would see the alias, a symlink: they see the shared
         * directory instead (realpath then keeps "/tmp"), and Landlock allows no more there. */
        if ((size_t)len == prefix &&
            (c->nofollow == NOFOLLOW_ALWAYS ||
             (c->nofollow >= 0 && (req->data.args[(int)c->nofollow] & AT_SYMLINK_NOFOLLOW))))
            continue;
        replace(path, prefix, k);
        /* The target might have died and its pid been reused while we read its memory. */
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id)) return -ENOENT;
        int r = fb_target_write(pid, addr, path, prefix);
        if (r) return r;
    }
    return FB_CONTINUE;
}
