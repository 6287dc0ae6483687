/*
 * The test's tree is attacker-controlled: a report path may be a symlink to /etc/passwd, a FIFO
 * that blocks forever, or a 10 GB file. So: openat2 with RESOLVE_BENEATH and no symlinks of any
 * kind, O_NONBLOCK and O_NOFOLLOW, regular files only (fstat), and caps on count and size
 * (docs/SANDBOX.md §10, "Supervisor, during and after the attempt", step 8).
 */
#include "artifact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define FB_ARTIFACT_MAX_FILES 64
#define FB_ARTIFACT_MAX_FILE (4u << 20)
#define FB_ARTIFACT_MAX_TOTAL (16u << 20)

/* `same_mount`: the file must be on its directory's mount (a directory path may cross into
 * /workspace or /tmp; a file name never needs to). */
static int open_beneath(int dirfd, const char *path, int flags, int same_mount) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC | O_NOFOLLOW);
    how.resolve =
        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | (same_mount ? RESOLVE_NO_XDEV : 0);
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Sends one file; returns the bytes sent, or 0 when it is not a regular file. */
static size_t send_file(int out, int dirfd, const char *dir, const char *name, size_t budget) {
    int fd = open_beneath(dirfd, name, O_RDONLY | O_NONBLOCK, 1);
    if (fd < 0) return 0;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    size_t cap = budget < FB_ARTIFACT_MAX_FILE ? budget : FB_ARTIFACT_MAX_FILE;
    char *buf = malloc(cap ? cap : 1);
    size_t n = 0;
    while (buf && n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    int truncated = (off_t)n < st.st_size;
    close(fd);
    char header[4400];
    int len = snprintf(header, sizeof header, "artifact %zu %d %s/%s\n", n, truncated, dir, name);
    if (buf && len > 0 && (size_t)len < sizeof header) {
        if (write_all(out, header, (size_t)len) == 0) write_all(out, buf, n);
    }
    free(buf);
    return n;
}

void fb_collect_artifacts(const struct fb_plan *plan) {
    if (plan->artifact_fd < 0) return;
    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return;
    size_t total = 0, files = 0;
    for (size_t k = 0; k < plan->n_artifacts; k++) {
        const char *pattern = plan->artifacts[k];
        const char *slash = strrchr(pattern, '/');
        if (pattern[0] != '/' || !slash || !slash[1]) continue;
        char dir[4096];
        size_t dlen = (size_t)(slash - pattern);
        if (dlen >= sizeof dir) continue;
        memcpy(dir, pattern, dlen);
        dir[dlen] = 0;
        if (strpbrk(dir, "*?[")) continue; /* wildcards only in the last component */
        int dirfd = dlen == 0 ? dup(root) : open_beneath(root, dir + 1, O_RDONLY | O_DIRECTORY, 0);
        if (dirfd < 0) continue;
        int listfd = dup(dirfd);
        DIR *d = listfd >= 0 ? fdopendir(listfd) : NULL;
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL && files < FB_ARTIFACT_MAX_FILES &&
               total < FB_ARTIFACT_MAX_TOTAL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            if (strchr(e->d_name, '\n') || fnmatch(slash + 1, e->d_name, FNM_PERIOD) != 0) continue;
            size_t sent = send_file(plan->artifact_fd, dirfd, dir, e->d_name, FB_ARTIFACT_MAX_TOTAL - total);
            total += sent;
            files += sent > 0;
        }
        if (d) closedir(d);
        close(dirfd);
    }
    close(root);
}
