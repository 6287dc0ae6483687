#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int fb_target_read(pid_t pid, void *out, uint64_t addr, size_t len) {
    struct iovec local = {out, len}, remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len) return 0;
    return n < 0 ? -errno : -EFAULT;
}

long fb_target_read_string(pid_t pid, char *out, uint64_t addr, size_t cap) {
    const uint64_t page = 4096;
    size_t n = 0;
    while (n < cap) {
        /* One page at a time: a transfer that crosses into an unmapped page fails whole. */
        size_t chunk = (size_t)(page - ((addr + n) & (page - 1)));
        if (chunk > cap - n) chunk = cap - n;
        int r = fb_target_read(pid, out + n, addr + n, chunk);
        if (r) return r;
        char *end = memchr(out + n, 0, chunk);
        if (end) return (long)(end - out);
        n += chunk;
    }
    return -ENAMETOOLONG;
}

int fb_target_write(pid_t pid, uint64_t addr, const void *data, size_t len) {
    struct iovec local = {(void *)data, len}, remote = {(void *)(uintptr_t)addr, len};
    if (process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len) return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = pwrite(fd, data, len, (off_t)addr);
    int saved = errno;
    close(fd);
    return n == (ssize_t)len ? 0 : (n < 0 ? -saved : -EFAULT);
}
