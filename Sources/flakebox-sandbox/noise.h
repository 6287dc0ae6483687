/*
 * Stress mode: CPU and I/O noise started inside the attempt, beside the test, so that it shares
 * the attempt's cgroup limits (cpu quota, memory) with the test and dies with the attempt.
 */
#ifndef FB_NOISE_H
#define FB_NOISE_H

#include "plan.h"

/* Forks plan->noise_cpu spinners and plan->noise_io writers as children of the caller (PID 1 of
 * the sandbox, or the minimal-tier launcher, whose end kills them). Each child resets its signals,
 * closes every descriptor, drops its capabilities, sets no_new_privs and never execs: it runs only
 * the loop below. Returns 0, or -1 after reporting the stage. */
int fb_noise_start(const struct fb_plan *plan);

#endif
