/*
 * A private /tmp, /var/tmp and /dev/shm per attempt without a mount namespace (minimal tier):
 * the calls that take a path stop in the loopback guard's seccomp filter (one listener per
 * process: the kernel allows no second), and an absolute path beneath one of those directories
 * is rewritten in the attempt's memory to the same length, its prefix replaced by the attempt's
 * alias (a symlink at /, e.g. /.k3, made by the supervisor) padded with slashes: "/tmp/x" becomes
 * "/.k3//x". The kernel then resolves the alias to the attempt's own directory. Landlock stays the
 * boundary: the shared directories are neither readable nor writable, so a thread that races the
 * rewrite, or a path spelled otherwise, gets EACCES, never another attempt's file. Paths the plan
 * names for Landlock (the attempt's copy, its scratch) stay as they are, wherever they live.
 * See docs/SANDBOX.md.
 */
#ifndef FB_PATHGUARD_H
#define FB_PATHGUARD_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>

#include "plan.h"

/* A notified call goes on in the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE). */
#define FB_CONTINUE (1 << 30)

/* Launcher side, before the first notification: the plan's directories and their aliases. The
 * launcher is single-threaded and sets this once; the handlers only read it. */
void fb_pathguard_configure(const struct fb_plan *plan);
/* Appends the filter's path part (the syscall number loaded in A) to `code`: every call that
 * takes a path returns SECCOMP_RET_USER_NOTIF, except fstat-style calls on a descriptor
 * (AT_EMPTY_PATH). Returns the number of instructions written, or 0 when `cap` is too small. */
size_t fb_pathguard_filter(struct sock_filter *code, size_t cap);
/* Is `nr` one of the calls fb_pathguard_filter notifies? */
int fb_pathguard_notified(int nr);
/* Rewrites the path arguments of a notified call in the target's memory where they name a private
 * directory. Returns FB_CONTINUE or a negative errno. */
long fb_pathguard_handle(int listener, const struct seccomp_notif *req);
/* The same rewrite on a path held here (a unix socket's sun_path, `len` bytes, perhaps not
 * NUL-terminated). Returns 1 when it was rewritten. */
int fb_pathguard_rewrite(char *path, size_t len);

#endif
