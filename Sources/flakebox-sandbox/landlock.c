#include "landlock.h"

#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The uapi header of the build machine may predate ABI 3-6: the values are the kernel's. */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define FB_LL_CREATE_RULESET_VERSION (1U << 0)
#define FB_LL_RULE_PATH_BENEATH 1
#define FB_LL_EXECUTE (1ULL << 0)
#define FB_LL_WRITE_FILE (1ULL << 1)
#define FB_LL_READ_FILE (1ULL << 2)
#define FB_LL_READ_DIR (1ULL << 3)
#define FB_LL_TRUNCATE (1ULL << 14)
#define FB_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define FB_LL_SCOPE_SIGNAL (1ULL << 1)

struct fb_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct fb_path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

int fb_landlock_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, FB_LL_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

/* Every filesystem right the ABI knows (ABI 1: 13 rights; 2: REFER; 3: TRUNCATE; 5: IOCTL_DEV). */
static uint64_t handled_fs(int abi) {
    uint64_t all = (1ULL << 13) - 1;
    if (abi >= 2) all |= 1ULL << 13;
    if (abi >= 3) all |= 1ULL << 14;
    if (abi >= 5) all |= 1ULL << 15;
    return all;
}

static int add_rule(int ruleset, const char *path, uint64_t access, uint64_t handled) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1; /* a path this machine lacks grants nothing */
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return -1;
    }
    /* A file (a device) takes only the rights that apply to files. */
    if (!S_ISDIR(st.st_mode)) access &= FB_LL_EXECUTE | FB_LL_WRITE_FILE | FB_LL_READ_FILE | FB_LL_TRUNCATE;
    struct fb_path_beneath rule = {.allowed_access = access & handled, .parent_fd = fd};
    long r = syscall(SYS_landlock_add_rule, ruleset, FB_LL_RULE_PATH_BENEATH, &rule, 0);
    int saved = errno;
    close(fd);
    errno = saved;
    return r ? -1 : 0;
}

int fb_landlock_apply(const struct fb_plan *plan, int launcher) {
    int abi = fb_landlock_abi();
    if (abi < 1) return fb_fail("landlock", ENOSYS), -1;
    uint64_t handled = handled_fs(abi);
    struct fb_ruleset_attr attr = {.handled_access_fs = handled};
    if (abi >= 6) attr.scoped = FB_LL_SCOPE_ABSTRACT_UNIX_SOCKET | FB_LL_SCOPE_SIGNAL;
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) return fb_fail("landlock-ruleset", errno), -1;
    const uint64_t read = FB_LL_EXECUTE | FB_LL_READ_FILE | FB_LL_READ_DIR;
    for (size_t k = 0; k < plan->n_landlock; k++) {
        uint64_t access = plan->landlock_paths[k].writable ? handled : read;
        /* The launcher writes an attempt's memory through /proc/PID/mem (the net guard). */
        if (launcher && strcmp(plan->landlock_paths[k].path, "/proc") == 0) access |= FB_LL_WRITE_FILE;
        if (add_rule(ruleset, plan->landlock_paths[k].path, access, handled)) {
            int saved = errno;
            close(ruleset);
            return fb_fail("landlock-rule", saved), -1;
        }
    }
    long r = syscall(SYS_landlock_restrict_self, ruleset, 0);
    int saved = errno;
    close(ruleset);
    if (r) return fb_fail("landlock-restrict", saved), -1;
    return 0;
}
