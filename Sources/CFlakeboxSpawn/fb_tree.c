#include "fb_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper trees fall back to the host's cp/rm (each level holds a descriptor). */
#define MAX_DEPTH 128

struct owner {
    uid_t uid;
    gid_t gid;
    int set;  /* chown to uid/gid */
    int keep; /* chown to the source's owner (root supervisor) */
};

static int chown_entry(int fd, int dir, const char *name, const struct stat *st, const struct owner *o) {
    uid_t u = o->set ? o->uid : st->st_uid;
    gid_t g = o->set ? o->gid : st->st_gid;
    if (!o->set && !o->keep) return 0;
    int r = fd >= 0 ? fchown(fd, u, g) : fchownat(dir, name, u, g, AT_SYMLINK_NOFOLLOW);
    return r ? errno : 0;
}

static int copy_bytes(int in, int out, off_t size) {
    if (ioctl(out, FICLONE, in) == 0) return 0;
    off_t left = size;
    while (left > 0) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) break;
        if (n < 0) return errno;
        if (n == 0) return 0; /* shrank meanwhile */
        left -= n;
    }
    if (left <= 0) return 0;
    /* No copy_file_range between these filesystems: read and write from where it stopped. */
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return 0;
        for (ssize_t w = 0; w < n;) {
            ssize_t m = write(out, buf + w, (size_t)(n - w));
            if (m < 0 && errno == EINTR) continue;
            if (m < 0) return errno;
            w += m;
        }
    }
}

static int copy_dir(int from, int to, const struct owner *o, int depth);

/* Copies `from`/`name` to `to`/`as`. */
static int copy_entry(int from, int to, const char *name, const char *as, const struct owner *o, int depth) {
    struct stat st;
    if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW)) return errno;
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    int err = 0;
    if (S_ISREG(st.st_mode)) {
        int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (in < 0) return errno;
        int out = openat(to, as, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0) {
            err = errno;
            close(in);
            return err;
        }
        err = copy_bytes(in, out, st.st_size);
        /* The owner before the mode: chown clears set-id bits. */
        if (!err) err = chown_entry(out, -1, NULL, &st, o);
        if (!err && fchmod(out, st.st_mode & 07777)) err = errno;
        if (!err && futimens(out, times)) err = errno;
        close(in);
        close(out);
        return err;
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth >= MAX_DEPTH) return ELOOP;
        if (mkdirat(to, as, 0700)) return errno;
        int in = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0) return errno;
        int out = openat(to, as, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (out < 0) {
            err = errno;
            close(in);
            return err;
        }
        err = copy_dir(in, out, o, depth + 1); /* closes in */
        if (!err) err = chown_entry(out, -1, NULL, &st, o);
        if (!err && fchmod(out, st.st_mode & 07777)) err = errno;
        if (!err && futimens(out, times)) err = errno;
        close(out);
        return err;
    }
    if (S_ISLNK(st.st_mode)) {
        char target[4097];
        ssize_t n = readlinkat(from, name, target, sizeof target - 1);
        if (n < 0) return errno;
        target[n] = 0;
        if (symlinkat(target, to, as)) return errno;
        err = chown_entry(-1, to, as, &st, o);
        if (!err && utimensat(to, as, times, AT_SYMLINK_NOFOLLOW)) err = errno;
        return err;
    }
    if (S_ISFIFO(st.st_mode)) {
        if (mkfifoat(to, as, 0600)) return errno;
        err = chown_entry(-1, to, as, &st, o);
        if (!err && fchmodat(to, as, st.st_mode & 07777, 0)) err = errno;
        return err;
    }
    return 0; /* sockets and devices: nothing a test's checkout should carry */
}

/* Copies the entries of directory `from` into `to`; takes `from`. */
static int copy_dir(int from, int to, const struct owner *o, int depth) {
    DIR *d = fdopendir(from);
    if (!d) {
        int err = errno;
        close(from);
        return err;
    }
    int err = 0;
    struct dirent *e;
    while (!err && (errno = 0, e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        err = copy_entry(dirfd(d), to, e->d_name, e->d_name, o, depth);
    }
    if (!err && errno) err = errno;
    closedir(d);
    return err;
}

int fb_tree_copy(const char *src, const char *dst, uid_t uid, gid_t gid) {
    struct owner o = {.uid = uid, .gid = gid, .set = uid != (uid_t)-1, .keep = geteuid() == 0};
    char *a = strdup(src), *b = strdup(dst);
    if (!a || !b) {
        free(a);
        free(b);
        return ENOMEM;
    }
    /* The source's name and parent, the destination's name and parent. */
    char *an = strrchr(a, '/'), *bn = strrchr(b, '/');
    int err = 0;
    if (!an || !bn || !an[1] || !bn[1]) {
        err = EINVAL;
    } else {
        *an++ = 0;
        *bn++ = 0;
        int from = open(*a ? a : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int to = open(*b ? b : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (from < 0 || to < 0)
            err = errno;
        else
            err = copy_entry(from, to, an, bn, &o, 0);
        if (from >= 0) close(from);
        if (to >= 0) close(to);
    }
    free(a);
    free(b);
    return err;
}

static int remove_dir(int dir, int depth);

static int remove_entry(int parent, const char *name, int depth) {
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno != EISDIR && errno != EPERM) return errno;
    if (depth >= MAX_DEPTH) return ELOOP;
    int dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
        dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) return errno;
    int err = remove_dir(dir, depth + 1);
    if (err) return err;
    if (unlinkat(parent, name, AT_REMOVEDIR) && errno != ENOENT) return errno;
    return 0;
}

/* Removes the entries of `dir`; takes it. */
static int remove_dir(int dir, int depth) {
    /* A test may have taken away its own write permission; the owner may give it back. */
    if (geteuid() != 0) fchmod(dir, 0700);
    DIR *d = fdopendir(dir);
    if (!d) {
        int err = errno;
        close(dir);
        return err;
    }
    int err = 0;
    struct dirent *e;
    while (!err && (errno = 0, e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        err = remove_entry(dirfd(d), e->d_name, depth);
    }
    if (!err && errno) err = errno;
    closedir(d);
    return err;
}

int fb_tree_remove(const char *path) {
    char *a = strdup(path);
    if (!a) return ENOMEM;
    char *name = strrchr(a, '/');
    int err;
    if (!name || !name[1]) {
        err = EINVAL;
    } else {
        *name++ = 0;
        int parent = open(*a ? a : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0) {
            err = errno;
        } else {
            struct stat st;
            err = fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) ? errno : remove_entry(parent, name, 0);
            close(parent);
        }
    }
    free(a);
    return err;
}
