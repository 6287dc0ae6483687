/*
 * The noise workers of stress mode (see noise.h). A CPU worker spins on integer arithmetic; an
 * I/O worker rewrites a scratch file of plan->noise_io_bytes in 256 KiB writes with fdatasync,
 * reads it back, and starts again. The file is opened O_TMPFILE (no name the test could see or
 * trip over) in the attempt's temporary directory: a private tmpfs at the namespaced tiers, so
 * its pages count against the attempt's memory limit like the test's own files.
 */
#include "noise.h"

#include "report.h"
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define FB_NOISE_BLOCK (256u << 10)

/* The test's TMPDIR (the minimal tier's private temp directory), else /tmp. */
static const char *temp_directory(const struct fb_plan *plan) {
    for (size_t k = 0; k < plan->n_env; k++)
        if (strncmp(plan->env[k], "TMPDIR=", 7) == 0 && plan->env[k][7] == '/') return plan->env[k] + 7;
    return "/tmp";
}

static void spin(void) {
    volatile uint64_t x = 88172645463325252ull;
    for (;;) {
        /* xorshift: no memory traffic, no syscalls, never optimised away */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
}

static void churn(const char *dir, uint64_t bytes) {
    static char block[FB_NOISE_BLOCK];
    memset(block, 0x5a, sizeof block);
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    /* Without a scratch file the worker still loads the CPU rather than vanish unnoticed. */
    if (fd < 0) spin();
    for (;;) {
        for (uint64_t done = 0; done < bytes; done += sizeof block)
            if (pwrite(fd, block, sizeof block, (off_t)done) < 0) break;
        fdatasync(fd);
        for (uint64_t done = 0; done < bytes; done += sizeof block)
            if (pread(fd, block, sizeof block, (off_t)done) <= 0) break;
        if (ftruncate(fd, 0)) spin();
    }
}

static pid_t start_worker(const struct fb_plan *plan, int io) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    fb_reset_signals();
    /* The attempt's end (PID 1 exiting, or the launcher killing its descendants) ends us; this
     * covers the launcher dying first. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    prctl(PR_SET_NAME, io ? "fb-noise-io" : "fb-noise-cpu", 0, 0, 0);
    close_range(0, ~0U, 0);
    if (fb_drop_capabilities()) _exit(127);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) _exit(127);
    if (io)
        churn(temp_directory(plan), plan->noise_io_bytes);
    else
        spin();
    _exit(0);
}

int fb_noise_start(const struct fb_plan *plan) {
    for (unsigned k = 0; k < plan->noise_cpu + plan->noise_io; k++) {
        if (start_worker(plan, k >= plan->noise_cpu) < 0) return fb_fail("noise-fork", errno), -1;
    }
    return 0;
}
