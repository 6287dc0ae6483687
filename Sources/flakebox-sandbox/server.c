/*
 * The launcher as a fork server. Executing this static binary costs ~0.8 ms of CPU per attempt on
 * this VM (most of it glibc's start-up probing of the CPU's caches: cpuid, a trap to the
 * hypervisor, in a loop); forking this small single-threaded process does not pay it. So the
 * supervisor starts one server per sandbox and asks it for each launcher.
 *
 * A request is one SOCK_SEQPACKET message: a uint32 mask of descriptor slots, then the launcher's
 * arguments, NUL-separated; SCM_RIGHTS carries one descriptor per set bit, in slot order. The
 * launcher is cloned with CLONE_PARENT: it is the supervisor's child, exactly as a spawned one
 * (its waitpid, pidfd and SIGCHLD unchanged), and starts from this process's state, which holds
 * nothing but the request: no environment, no secrets, default signal state. The reply is an
 * int32: the launcher's pid, or -errno when the clone failed. The new process waits on a gate
 * until that reply went out, so a launcher the supervisor was never told of never runs; it
 * writes its pid on the orphans descriptor instead, for the supervisor to reap.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define FB_SERVER_MAX_ARGS 64

/* In the new process: descriptor i is the request's slot i (closed when the mask leaves it out),
 * nothing else stays open. Returns -1 when a descriptor could not be moved. */
static int place_fds(const int *fds, uint32_t mask) {
    int moved[FB_SERVER_SLOTS];
    int k = 0;
    /* Above the slot range first, so that placing slot i never clobbers a source still needed. */
    for (int i = 0; i < FB_SERVER_SLOTS; i++) {
        moved[i] = -1;
        if (!(mask & (1u << i))) continue;
        moved[i] = fcntl(fds[k++], F_DUPFD_CLOEXEC, FB_SERVER_SLOTS);
        if (moved[i] < 0) return -1;
    }
    for (int i = 0; i < FB_SERVER_SLOTS; i++) {
        if (moved[i] < 0)
            close(i);
        else if (dup2(moved[i], i) < 0) /* dup2 leaves the copy without close-on-exec */
            return -1;
    }
    close_range(FB_SERVER_SLOTS, ~0U, 0);
    return 0;
}

/* 0 when the answer went out. */
static int reply(int sock, int32_t value) {
    ssize_t r;
    while ((r = send(sock, &value, sizeof value, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return r == (ssize_t)sizeof value ? 0 : -1;
}

/* The new process, before anything else: waits for the server's word that the supervisor was
 * told its pid. Without it (the server died or could not answer), the supervisor cannot know of
 * this launcher, so it must not run: it writes its pid on `orphans`, the supervisor's pipe for
 * launchers it was never told of, and exits untouched. It is the supervisor's child all the same
 * (CLONE_PARENT), so only the supervisor can reap it: unreaped, it would stay a zombie for the
 * supervisor's life, and anything there that waits for any child (swift-testing's exit-test
 * monitor does) would find that zombie first, forever. */
static void await_gate(int gate, int orphans) {
    char byte;
    ssize_t r;
    while ((r = read(gate, &byte, 1)) < 0 && errno == EINTR) {
    }
    if (r != 1) {
        int32_t me = (int32_t)syscall(SYS_getpid);
        if (orphans >= 0) {
            while (write(orphans, &me, sizeof me) < 0 && errno == EINTR) {
            }
        }
        _exit(0);
    }
    close(gate);
}

int fb_serve(int sock, int orphans, int (*launch)(int argc, char **argv)) {
    /* The supervisor decides when attempts end, and the server goes when the supervisor closes
     * the socket (or dies): signals meant for the process group (a terminal's ^C, ^\, ^Z, a
     * `timeout`'s SIGTERM) are not for it. Its launchers reset every disposition first. */
    int ignored[] = {SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
    for (size_t k = 0; k < sizeof ignored / sizeof ignored[0]; k++)
        signal(ignored[k], SIG_IGN);
    for (;;) {
        char data[4096];
        union {
            char buf[CMSG_SPACE(sizeof(int) * FB_SERVER_SLOTS)];
            struct cmsghdr align;
        } control;
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data - 1};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf};
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0; /* the supervisor closed its end, or is gone */

        int fds[FB_SERVER_SLOTS];
        int nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (nfds < FB_SERVER_SLOTS)
                    fds[nfds++] = fd;
                else
                    close(fd);
            }
        }
        uint32_t mask = 0;
        if ((size_t)n >= sizeof mask) memcpy(&mask, data, sizeof mask);
        char *argv[FB_SERVER_MAX_ARGS + 1];
        int argc = 0;
        data[n] = 0;
        for (size_t at = sizeof mask; at < (size_t)n && argc < FB_SERVER_MAX_ARGS;
             at += strlen(data + at) + 1)
            argv[argc++] = data + at;
        argv[argc] = NULL;

        int32_t result;
        int gate[2] = {-1, -1};
        pid_t pid = -1;
        if ((size_t)n < sizeof mask || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
            __builtin_popcount(mask) != nfds || (mask >> FB_SERVER_SLOTS) != 0 || argc == 0) {
            result = -EINVAL;
        } else if (pipe2(gate, O_CLOEXEC)) {
            result = -errno;
        } else {
            /* A raw clone of a single-threaded process, as the launcher's own clone of PID 1.
             * glibc's cached thread id in the child stays the server's: the launcher uses no
             * pthread_* call on itself (fork repairs it in the grandchildren). */
            pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
            if (pid == 0) {
                /* The launcher resets every disposition first thing, but until then (the gate,
                 * the descriptors) a SIGTERM from the supervisor must not be lost on the
                 * server's ignored set. */
                for (size_t k = 0; k < sizeof ignored / sizeof ignored[0]; k++)
                    signal(ignored[k], SIG_DFL);
                close(sock);
                close(gate[1]);
                await_gate(gate[0], orphans);
                if (place_fds(fds, mask)) _exit(125);
                _exit(launch(argc, argv));
            }
            result = pid < 0 ? -errno : pid;
            close(gate[0]);
        }
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        int told = reply(sock, result) == 0;
        if (pid > 0 && told) {
            while (write(gate[1], "g", 1) < 0 && errno == EINTR) {
            }
        }
        if (gate[1] >= 0) close(gate[1]);
    }
}
