#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int report_fd = -1;

void fb_report_set_fd(int fd) {
    report_fd = fd;
}

static void emit(const char *line, size_t len) {
    while (len > 0) {
        ssize_t w = write(report_fd, line, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        line += w;
        len -= (size_t)w;
    }
}

void fb_fail_plain(const char *stage, int err) {
    char line[256];
    int n = snprintf(line, sizeof line, "flakebox-sandbox: %s: %s\n", stage, strerror(err));
    if (n > 0) {
        ssize_t ignored = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)ignored;
    }
}

void fb_fail(const char *stage, int err) {
    if (report_fd < 0) {
        fb_fail_plain(stage, err);
        return;
    }
    char line[200];
    int n = snprintf(line, sizeof line, "error %s %d\n", stage, err);
    if (n > 0 && (size_t)n < sizeof line) emit(line, (size_t)n);
}

void fb_report_init_pid(int pid) {
    if (report_fd < 0) return;
    char line[64];
    int n = snprintf(line, sizeof line, "init %d\n", pid);
    if (n > 0) emit(line, (size_t)n);
}

void fb_report_exit(int status) {
    if (report_fd < 0) return;
    char line[64];
    int n = snprintf(line, sizeof line, "exit %d\n", status);
    if (n > 0) emit(line, (size_t)n);
}

void fb_report_cpu_base(int fd) {
    if (report_fd < 0 || fd < 0) return;
    char text[512];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) return;
    text[n] = 0;
    unsigned long long ns;
    const char *usec = strstr(text, "usage_usec ");
    if (usec) {
        ns = strtoull(usec + 11, NULL, 10) * 1000ULL;
    } else if (text[0] >= '0' && text[0] <= '9') {
        ns = strtoull(text, NULL, 10);
    } else {
        return;
    }
    char line[64];
    int len = snprintf(line, sizeof line, "cpu-base %llu\n", ns);
    if (len > 0) emit(line, (size_t)len);
}

void fb_report_reaper(int status) {
    if (report_fd < 0) return;
    char line[64];
    int n = snprintf(line, sizeof line, "reaper %d\n", status);
    if (n > 0) emit(line, (size_t)n);
}
