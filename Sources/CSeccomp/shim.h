// flakebox: the part of libseccomp (and of the kernel's seccomp ABI) that Swift cannot import directly.
//
// Swift imports neither function-like macros (SCMP_ACT_ERRNO(x), SCMP_ACT_TRACE(x)) nor variadic functions
// (seccomp_rule_add: use seccomp_rule_add_array), and Swift's Glibc module hides memfd_create. Everything
// here is a `static inline` wrapper or a plain constant, prefixed `fb_`.
#ifndef FLAKEBOX_CSECCOMP_SHIM_H
#define FLAKEBOX_CSECCOMP_SHIM_H

#include <seccomp.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

// Filter actions (the 32-bit values libseccomp and the kernel use).
static inline uint32_t fb_scmp_act_allow(void) {
    return SCMP_ACT_ALLOW;
}
static inline uint32_t fb_scmp_act_kill_thread(void) {
    return SCMP_ACT_KILL_THREAD;
}
static inline uint32_t fb_scmp_act_kill_process(void) {
    return SCMP_ACT_KILL_PROCESS;
}
static inline uint32_t fb_scmp_act_trap(void) {
    return SCMP_ACT_TRAP;
}
static inline uint32_t fb_scmp_act_log(void) {
    return SCMP_ACT_LOG;
}
static inline uint32_t fb_scmp_act_notify(void) {
    return SCMP_ACT_NOTIFY;
}
static inline uint32_t fb_scmp_act_errno(uint16_t error) {
    return SCMP_ACT_ERRNO(error);
}
static inline uint32_t fb_scmp_act_trace(uint16_t message) {
    return SCMP_ACT_TRACE(message);
}

// libseccomp's "no such system call" result of the resolve functions.
static inline int fb_nr_scmp_error(void) {
    return __NR_SCMP_ERROR;
}

// The libseccomp version this module was compiled against (the library may be newer at run time).
static inline unsigned fb_scmp_header_version_major(void) {
    return SCMP_VER_MAJOR;
}
static inline unsigned fb_scmp_header_version_minor(void) {
    return SCMP_VER_MINOR;
}
static inline unsigned fb_scmp_header_version_micro(void) {
    return SCMP_VER_MICRO;
}

// memfd_create through the raw system call: Swift's Glibc module does not export the glibc wrapper.
// Returns the new fd, or -1 with errno set.
static inline int fb_memfd_create(const char *name, unsigned flags) {
    return (int)syscall(SYS_memfd_create, name, flags);
}

// MFD_CLOEXEC from <linux/memfd.h> (not visible through Glibc).
#define FB_MFD_CLOEXEC 0x0001U

#endif
