/* The steps that run inside the new namespaces: building the root, the reaper, and the worker. */
#ifndef FB_SETUP_H
#define FB_SETUP_H

#include "plan.h"

/* Unblocks every signal and restores every disposition to its default. */
void fb_reset_signals(void);
/* PID 1 of the new pid namespace: builds the root, writes a byte to ready_fd, waits for the go
 * byte on go_fd (built ahead: then the rest of the arguments, up to end of file), forks the worker and reaps
 * until the worker exits. Returns the exit code for _exit. */
int fb_sandbox_init(struct fb_plan *plan, int go_fd, int ready_fd);
/* Drops what is left of privilege, installs seccomp last and execs the command. nested != 0: first
 * enter a nested user + mount namespace, which locks every mount made during setup. */
int fb_worker_exec(struct fb_plan *plan, int nested);
/* Drops every capability (bounding, ambient, effective, permitted). Returns 0, or -1 after
 * reporting the stage. */
int fb_drop_capabilities(void);
/* Points stdout and stderr at /dev/null when failures go to the report pipe: a process that will
 * not write the command's output must not hold its pipes open (their end of file is how the
 * supervisor knows the output is complete). */
void fb_release_output(const struct fb_plan *plan);
/* Kills the process `root` (if > 0) and every descendant that reparented to us; reaps them all. */
void fb_kill_descendants(pid_t root);

#endif
