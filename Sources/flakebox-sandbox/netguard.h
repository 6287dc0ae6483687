/*
 * A loopback of its own per attempt, without a network namespace (minimal tier): the attempt's
 * bind/connect/sendto/sendmsg calls stop in seccomp user notification; the launcher reads the
 * address, rewrites loopback to the attempt's own 127.x.y.z (IPv6 ::1 and :: to its v4-mapped
 * form, abstract unix names to a per-attempt prefix), refuses other destinations unless the
 * policy shares the host's network, and performs the call itself on the attempt's socket (taken
 * with pidfd_getfd), so the checked address is the one used. See docs/SANDBOX.md.
 */
#ifndef FB_NETGUARD_H
#define FB_NETGUARD_H

#include <stdint.h>
#include <sys/types.h>

/* The attempt's own address (host byte order), chosen from the launcher's pid. */
uint32_t fb_netguard_address(pid_t launcher);
/* Child side (cloned with CLONE_FILES, so its descriptor table is the launcher's until execve),
 * after no_new_privs: installs the notifying filter (with the path guard's calls when `paths`)
 * and writes the listener's number to `chan`. */
int fb_netguard_install(int chan, int paths);
/* Launcher side: the listener's number, read from `chan`, or -1 (errno; EPIPE: the child died). */
int fb_netguard_take(int chan, pid_t child);
/* `egress` of fb_netguard_handle: 0 no network, 1 the host network, FB_EGRESS_PUBLIC the host
 * network to public addresses only. */
#define FB_EGRESS_PUBLIC 2

/* Answers one notification on `listener`: own = the attempt's address, egress as above. */
void fb_netguard_handle(int listener, uint32_t own, int egress);

#endif
