/*
 * The test harness's imitation of an unprivileged Docker container, applied to this process
 * before it execs the command: Docker's default capability set (bounding, effective, permitted,
 * inheritable; ambient cleared) and a seccomp program compiled from Docker's default profile.
 * Not a sandbox of flakebox's own: it exists so that tests run the real binary where RunPod runs it.
 */
#include "fb_confine.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int fb_confine_exec(const unsigned char *bpf, size_t bpf_len, uint64_t caps, char *const argv[],
                    char *const envp[]) {
    for (int cap = 0; cap <= 63; cap++) {
        if (caps & (1ULL << cap)) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL) return errno;
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) return errno;
    /* The filter goes on while CAP_SYS_ADMIN is still effective: Docker does not set
     * no_new_privs, and neither does this. */
    struct sock_fprog prog = {.len = (unsigned short)(bpf_len / 8), .filter = (struct sock_filter *)bpf};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) return errno;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = data[0].inheritable = (uint32_t)caps;
    data[1].effective = data[1].permitted = data[1].inheritable = (uint32_t)(caps >> 32);
    if (syscall(SYS_capset, &hdr, data)) return errno;
    execve(argv[0], argv, envp);
    return errno;
}
