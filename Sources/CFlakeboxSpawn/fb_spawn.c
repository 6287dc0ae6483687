#include "fb_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int fb_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const int *fds, int nfds) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int err = posix_spawn_file_actions_init(&actions);
    if (err) return err;
    err = posix_spawnattr_init(&attr);
    if (err) {
        posix_spawn_file_actions_destroy(&actions);
        return err;
    }
    /* Move every source above the target range first, so that dup2 i <- fds[i] never clobbers a
     * source still needed; the duplicates are closed by addclosefrom below. */
    int base = nfds;
    for (int i = 0; i < nfds; i++)
        if (fds[i] >= base) base = fds[i] + 1;
    for (int i = 0; i < nfds && !err; i++)
        if (fds[i] >= 0) err = posix_spawn_file_actions_adddup2(&actions, fds[i], base + i);
    for (int i = 0; i < nfds && !err; i++) {
        if (fds[i] >= 0)
            err = posix_spawn_file_actions_adddup2(&actions, base + i, i);
        else
            err = posix_spawn_file_actions_addclose(&actions, i);
    }
    if (!err) err = posix_spawn_file_actions_addclosefrom_np(&actions, nfds);

    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if (!err) err = posix_spawnattr_setsigmask(&attr, &none);
    if (!err) err = posix_spawnattr_setsigdefault(&attr, &all);
    if (!err) err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!err) err = posix_spawn(pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return err;
}

/* Slots a request may fill: FB_SERVER_SLOTS in flakebox-sandbox's server.h. */
#define FB_SERVER_SLOTS 16

int fb_server_request(int sock, const int *fds, int nfds, const char *args, size_t len, pid_t *pid,
                      int *delivered) {
    *delivered = 0;
    /* Ours to refuse, and the server's no fault: not made, the server kept. */
    if (nfds > FB_SERVER_SLOTS || len > 4000) return EINVAL;
    char data[4 + 4000];
    uint32_t mask = 0;
    union {
        char buf[CMSG_SPACE(sizeof(int) * FB_SERVER_SLOTS)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    int passed[FB_SERVER_SLOTS];
    int count = 0;
    for (int i = 0; i < nfds; i++) {
        if (fds[i] < 0) continue;
        mask |= 1u << i;
        passed[count++] = fds[i];
    }
    memcpy(data, &mask, sizeof mask);
    memcpy(data + sizeof mask, args, len);
    struct iovec iov = {.iov_base = data, .iov_len = sizeof mask + len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (count > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(c), passed, sizeof(int) * (size_t)count);
    }
    ssize_t r;
    while ((r = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (r < 0) return -errno;
    *delivered = 1;
    int32_t answer;
    while ((r = recv(sock, &answer, sizeof answer, 0)) < 0 && errno == EINTR) {
    }
    if (r < 0) return -errno;
    if (r != sizeof answer || answer == 0) return -EPROTO;
    if (answer < 0) return -answer;
    *pid = answer;
    return 0;
}

int fb_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int fb_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int fb_memfd_create(const char *name) {
    return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

int fb_memfd_seal(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
}

int fb_pipe_cloexec(int fds[2], int nonblocking) {
    return pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0));
}

int fb_wifexited(int status) {
    return WIFEXITED(status);
}
int fb_wexitstatus(int status) {
    return WEXITSTATUS(status);
}
int fb_wifsignaled(int status) {
    return WIFSIGNALED(status);
}
int fb_wtermsig(int status) {
    return WTERMSIG(status);
}

int fb_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0, 0, 0, 0);
}

int fb_landlock_abi(void) {
    /* 444 = landlock_create_ruleset on every architecture; flag 1 = LANDLOCK_CREATE_RULESET_VERSION. */
    long abi = syscall(444, NULL, 0, 1U);
    return abi < 0 ? 0 : (int)abi;
}

int fb_pidfd_getfd_permitted(void) {
    int self = (int)syscall(434 /* pidfd_open */, getpid(), 0);
    if (self < 0) return 0;
    int fd = (int)syscall(438 /* pidfd_getfd */, self, 0, 0);
    close(self);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}
