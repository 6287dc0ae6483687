/*
 * Status records from the helper to the supervisor, one short text line each (atomic: < PIPE_BUF):
 *   init PID          the host pid of the sandbox's PID 1 (or of the worker, minimal tier)
 *   error STAGE ERRNO setup failed at STAGE; the attempt is a sandbox_error, never a test failure
 *   exit STATUS       the command's raw wait status
 *   reaper STATUS     PID 1 ended without reporting the command's status (e.g. killed)
 *   cpu-base NS       the attempt cgroup's CPU usage just before the command (and noise) started:
 *                     the sandbox's construction, which a pre-started launcher does in the cgroup
 * Without a report fd the same facts go to stderr as sentences, for use by hand.
 */
#ifndef FB_REPORT_H
#define FB_REPORT_H

void fb_report_set_fd(int fd);
/* Reports a setup failure at STAGE with errno ERR. */
void fb_fail(const char *stage, int err);
/* Same, for use before the plan is known: always stderr. */
void fb_fail_plain(const char *stage, int err);
void fb_report_init_pid(int pid);
void fb_report_exit(int status);
void fb_report_reaper(int status);
/* Reads the cgroup CPU usage from fd (v1 cpuacct.usage in ns, or v2 cpu.stat's usage_usec) and
 * reports it as cpu-base. Nothing when fd < 0 or the file cannot be read. */
void fb_report_cpu_base(int fd);

#endif
