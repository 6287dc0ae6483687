#include "commit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Deeper trees are refused (ELOOP): each level holds a descriptor. */
#define FB_COMMIT_DEPTH 256
/* Left when a write hit the limit: tmpfs fills page by page, and a write that did not fit
 * leaves less than this. No setup that stayed within its limit comes this close by chance. */
#define FB_COMMIT_SLACK_BYTES (1u << 20)
#define FB_COMMIT_SLACK_INODES 8

int fb_commit_limit_reached(int upper) {
    struct statfs s;
    if (fstatfs(upper, &s)) return 0;
    uint64_t free_bytes = (uint64_t)s.f_bavail * (uint64_t)s.f_bsize;
    return free_bytes < FB_COMMIT_SLACK_BYTES || (s.f_files > 0 && s.f_ffree < FB_COMMIT_SLACK_INODES);
}

static int is_dots(const char *name) {
    return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}

/* rm -rf of `name` beneath `dir`, following nothing. */
static int remove_at(int dir, const char *name, int depth) {
    struct stat st;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW)) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlinkat(dir, name, 0);
    if (depth > FB_COMMIT_DEPTH) return errno = ELOOP, -1;
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    /* A directory left without write permission is still ours to empty. */
    fchmod(fd, (st.st_mode & 07777) | S_IRWXU);
    DIR *d = fdopendir(fd);
    if (!d) return close(fd), -1;
    int r = 0;
    struct dirent *e;
    while (r == 0 && (e = readdir(d)))
        if (!is_dots(e->d_name)) r = remove_at(fd, e->d_name, depth + 1);
    int saved = errno;
    closedir(d);
    if (r) return errno = saved, -1;
    return unlinkat(dir, name, AT_REMOVEDIR);
}

static int copy_bytes(int from, int to) {
    char buf[1 << 16];
    for (;;) {
        /* tmpfs to another filesystem: copy_file_range is refused across types, plain I/O is not. */
        ssize_t n = read(from, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(to, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return -1;
            done += w;
        }
    }
}

static int keep_times(int dir, const char *name, const struct stat *st) {
    /* Python compares a .pyc with its source's mtime: a copy with new times is stale everywhere. */
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    return utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW);
}

static int commit_dir(int upper, int lower, int depth);

static int commit_entry(int udir, int ldir, const char *name, int depth) {
    struct stat st;
    if (fstatat(udir, name, &st, AT_SYMLINK_NOFOLLOW)) return -1;
    /* A whiteout: the name was removed. */
    if (S_ISCHR(st.st_mode) && st.st_rdev == 0) return remove_at(ldir, name, depth);
    if (S_ISDIR(st.st_mode)) {
        if (depth > FB_COMMIT_DEPTH) return errno = ELOOP, -1;
        int ufd = openat(udir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ufd < 0) return -1;
        char v[2];
        /* userxattr: a user namespace's overlay marks with user.overlay.*, which the sandbox
         * itself cannot set through the overlay. */
        int opaque = fgetxattr(ufd, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
        struct stat lst;
        int have = fstatat(ldir, name, &lst, AT_SYMLINK_NOFOLLOW) == 0;
        if (have && (opaque || !S_ISDIR(lst.st_mode))) {
            if (remove_at(ldir, name, depth)) return close(ufd), -1;
            have = 0;
        }
        if (!have && mkdirat(ldir, name, 0700)) return close(ufd), -1;
        int lfd = openat(ldir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lfd < 0) return close(ufd), -1;
        /* Writable while it is filled; its own mode last. */
        int r = fchmod(lfd, S_IRWXU) || commit_dir(ufd, lfd, depth + 1) || fchmod(lfd, st.st_mode & 01777);
        int saved = errno;
        close(ufd);
        close(lfd);
        if (r) return errno = saved, -1;
        return keep_times(ldir, name, &st);
    }
    if (remove_at(ldir, name, depth)) return -1;
    if (S_ISREG(st.st_mode)) {
        int from = openat(udir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (from < 0) return -1;
        int to = openat(ldir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (to < 0) return close(from), -1;
        /* No set-id bits: the checkout is mounted nosuid, and they mean nothing to a test. */
        int r = copy_bytes(from, to) || fchmod(to, st.st_mode & 0777);
        int saved = errno;
        close(from);
        close(to);
        if (r) return errno = saved, -1;
    } else if (S_ISLNK(st.st_mode)) {
        char target[4097];
        ssize_t n = readlinkat(udir, name, target, sizeof target - 1);
        if (n < 0) return -1;
        target[n] = 0;
        if (symlinkat(target, ldir, name)) return -1;
    } else if (S_ISFIFO(st.st_mode)) {
        if (mkfifoat(ldir, name, st.st_mode & 0777)) return -1;
    } else {
        /* Sockets and devices are not a checkout's business. */
        return 0;
    }
    return keep_times(ldir, name, &st);
}

static int commit_dir(int upper, int lower, int depth) {
    int fd = dup(upper);
    if (fd < 0) return -1;
    DIR *d = fdopendir(fd);
    if (!d) return close(fd), -1;
    int r = 0;
    struct dirent *e;
    while (r == 0 && (e = readdir(d)))
        if (!is_dots(e->d_name)) r = commit_entry(upper, lower, e->d_name, depth);
    int saved = errno;
    closedir(d);
    return r ? (errno = saved, -1) : 0;
}

int fb_commit_upper(int upper, int lower) {
    return commit_dir(upper, lower, 0);
}
