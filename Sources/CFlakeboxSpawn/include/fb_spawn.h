/*
 * What the Swift supervisor needs from libc that Swift's Glibc module hides or cannot express:
 * posix_spawn with a clean signal state and an exact descriptor table, pidfds, memfds.
 */
#ifndef FB_SPAWN_H
#define FB_SPAWN_H

#include <sys/types.h>

/* Spawns path with argv/envp. Child descriptor i (0 <= i < nfds) is fds[i] (or closed when -1);
 * every other descriptor is closed. The signal mask is emptied and every disposition reset, so
 * the child never inherits a Swift thread's blocked SIGTERM/SIGALRM. Returns 0 or an errno. */
int fb_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const int *fds, int nfds);

/* Asks a launcher server (flakebox-sandbox --serve, on `sock`) for a launcher with descriptor
 * table `fds` (as fb_spawn's; at most 16) and the NUL-separated arguments `args` (argv[0] first).
 * Returns 0 with *pid (a child of this process), a positive errno when the server could not fork,
 * or a negative errno when the server is unusable (gone, silent, or an answer out of protocol).
 * *delivered says whether the request reached the server: if it did and no answer came, a
 * launcher may have been made all the same. */
int fb_server_request(int sock, const int *fds, int nfds, const char *args, size_t len, pid_t *pid,
                      int *delivered);

/* pidfd_open(2); -1 with errno on failure. */
int fb_pidfd_open(pid_t pid);
/* pidfd_send_signal(2). */
int fb_pidfd_send_signal(int pidfd, int sig);
/* memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING). */
int fb_memfd_create(const char *name);
/* Forbids any further change to a memfd's size or content. */
int fb_memfd_seal(int fd);
/* pipe2(fds, O_CLOEXEC | extra). */
int fb_pipe_cloexec(int fds[2], int nonblocking);
/* The raw value of a wait status: exited? code? signal? */
int fb_wifexited(int status);
int fb_wexitstatus(int status);
int fb_wifsignaled(int status);
int fb_wtermsig(int status);

/* prctl(PR_SET_DUMPABLE): a process that holds secrets hides its memory and environment from
   other processes of its uid (/proc/PID/environ, /proc/PID/mem, ptrace). */
int fb_set_dumpable(int dumpable);

/* Whether pidfd_getfd works here (Docker's default profile refuses it without CAP_SYS_PTRACE). */
int fb_pidfd_getfd_permitted(void);
/* The kernel's Landlock ABI version (landlock_create_ruleset with the VERSION flag), or 0. */
int fb_landlock_abi(void);

#endif
