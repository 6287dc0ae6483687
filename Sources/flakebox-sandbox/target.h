/*
 * Reading and writing a notified attempt's memory (the loopback and path guards): process_vm_*
 * where allowed (Docker's profile allows them on kernels >= 4.8), /proc/PID/mem to write through
 * a read-only mapping, as a debugger does.
 */
#ifndef FB_TARGET_H
#define FB_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly `len` bytes at `addr`: 0 or a negative errno. */
int fb_target_read(pid_t pid, void *out, uint64_t addr, size_t len);
/* Reads a NUL-terminated string of at most `cap` - 1 bytes, page by page (a string may end just
 * before an unmapped page). Returns its length, -ENAMETOOLONG when no NUL came within `cap` (the
 * bytes read so far are in `out`, not terminated), or another negative errno. */
long fb_target_read_string(pid_t pid, char *out, uint64_t addr, size_t cap);
/* Writes `len` bytes at `addr`: 0 or a negative errno. */
int fb_target_write(pid_t pid, uint64_t addr, const void *data, size_t len);

#endif
