#include "netguard.h"

#include "egress.h"
#include "pathguard.h"
#include "report.h"
#include "target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#if defined(__x86_64__)
#define FB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "netguard: unsupported architecture"
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* The largest payload copied for an emulated sendto/sendmsg (a UDP datagram is at most 64 KiB). */
#define FB_SEND_MAX (256 * 1024)
#define FB_IOV_MAX 64

uint32_t fb_netguard_address(pid_t launcher) {
    /* 127.128.0.0/9 holds every pid (pid_max <= 2^22); 127.0.0.0/16 stays the host's. */
    uint32_t p = (uint32_t)launcher & 0x3fffff;
    return 0x7f800000u | p;
}

int fb_netguard_install(int chan, int paths) {
    /* Docker-style filters kill other ABIs already; a foreign-ABI call passes this one. */
    struct sock_filter head[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FB_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    };
    struct sock_filter net[] = {
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bind, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_connect, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendmsg, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendmmsg, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendto, 2, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        /* sendto without an address (send(2)) goes to the peer connect already checked. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4]) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
    };
    /* head, then the path guard's calls (each returns), then the network calls. */
    struct sock_filter code[512];
    size_t n = sizeof head / sizeof head[0];
    memcpy(code, head, sizeof head);
    if (paths) {
        size_t added =
            fb_pathguard_filter(code + n, sizeof code / sizeof code[0] - n - sizeof net / sizeof net[0]);
        if (added == 0) return fb_fail("pathguard-filter", E2BIG), -1;
        n += added;
    }
    memcpy(code + n, net, sizeof net);
    n += sizeof net / sizeof net[0];
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = code};
    int listener =
        (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0) return fb_fail("netguard-filter", errno), -1;
    /* The descriptor table is the launcher's too (CLONE_FILES) until execve unshares it, and the
     * listener is close-on-exec: telling its number hands it over (pidfd_getfd would need
     * CAP_SYS_PTRACE under Docker's profile). write, not sendmsg: sendmsg stops in the filter
     * now. Nothing of the shared table is closed from here on. */
    if (write(chan, &listener, sizeof listener) != (ssize_t)sizeof listener)
        return fb_fail("netguard-sync", errno), -1;
    return 0;
}

int fb_netguard_take(int chan, pid_t child) {
    /* The write end stays open in the shared table even if the child dies: watch it too. */
    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    struct pollfd fds[2] = {{.fd = chan, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    for (;;) {
        int r = poll(fds, pidfd < 0 ? 1 : 2, -1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || (fds[0].revents & POLLIN)) break;
        if (fds[1].revents) {
            close(pidfd);
            return errno = EPIPE, -1;
        }
    }
    if (pidfd >= 0) close(pidfd);
    int number = -1;
    ssize_t n;
    while ((n = read(chan, &number, sizeof number)) < 0 && errno == EINTR) {
    }
    if (n != (ssize_t)sizeof number) return errno = n == 0 ? EPIPE : errno, -1;
    return number;
}

/* Is something of this attempt bound at own:port? Looks for the exact address (a socket bound
 * to 0.0.0.0 would be the host's: the attempt's own wildcard binds are rewritten). udp < 0:
 * the socket's type is unknown, either will do. */
static int bound_here(uint32_t own, uint16_t port, int udp) {
    if (udp < 0) return bound_here(own, port, 0) || bound_here(own, port, 1);
    const char *files[2] = {udp ? "/proc/net/udp" : "/proc/net/tcp",
                            udp ? "/proc/net/udp6" : "/proc/net/tcp6"};
    uint32_t raw = htonl(own);
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(files[k], "re");
        if (!f) continue;
        char line[512];
        int found = 0;
        while (!found && fgets(line, sizeof line, f)) {
            unsigned int w[4] = {0}, p = 0, st = 0;
            int ok;
            if (k == 0)
                ok = sscanf(line, " %*d: %8X:%X %*X:%*X %X", &w[3], &p, &st) == 3;
            else
                ok = sscanf(line, " %*d: %8X%8X%8X%8X:%X %*X:%*X %X", &w[0], &w[1], &w[2], &w[3], &p, &st) ==
                         6 &&
                     w[0] == 0 && w[1] == 0 && w[2] == htonl(0xffff);
            if (ok && w[3] == raw && p == port && (udp || st == 0x0A)) found = 1;
        }
        fclose(f);
        if (found) return 1;
    }
    return 0;
}

/* The attempt's stand-in for ::1: IPv6 has one loopback address, so ::1 becomes a second IPv4
 * address of the attempt's (v4-mapped), and 127.0.0.1 and ::1 can both be bound on one port. */
static uint32_t own_v6(uint32_t own) {
    return own | 0x00400000u;
}

/* The loopback rule: `a` (host order) is a local address (v6loop: it was ::1). Sets *out to the
 * attempt's address to use; for a destination, the one of the two where something is bound. */
static int local_target(uint32_t a, int v6loop, int binding, uint16_t port, int udp, uint32_t own,
                        uint32_t *out) {
    uint32_t first = (v6loop || a == own_v6(own)) ? own_v6(own) : own;
    uint32_t second = first == own ? own_v6(own) : own;
    *out = first;
    if (binding) return 0;
    if (bound_here(first, port, udp)) return 0;
    /* A dual-stack server bound to :: took the IPv4 address; a client of ::1 still reaches it. */
    if (bound_here(second, port, udp)) return *out = second, 0;
    return -ECONNREFUSED;
}

/* Egress to public addresses only (`network: proxy` at the minimal tier, where there is no
 * namespace for the proxy): a destination in a private, link-local, CGNAT or other non-public
 * range is unreachable, but for DNS (port 53), whose resolver is often on a private address. */
static int public_only(int egress, int binding, uint16_t port, uint32_t a) {
    if (egress != FB_EGRESS_PUBLIC || binding || ntohs(port) == 53) return 0;
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr = {.s_addr = htonl(a)}};
    const char *why;
    return fb_egress_forbidden((const struct sockaddr *)&in, &why) ? -ENETUNREACH : 0;
}

/* The IPv4 rule on `addr` (network order, in place). Returns 0 or a negative errno. */
static int rewrite_v4(uint32_t *addr, uint16_t port, int binding, int udp, uint32_t own, int egress) {
    uint32_t a = ntohl(*addr);
    if (a == 0 || a == INADDR_LOOPBACK || a == own || a == own_v6(own)) {
        uint32_t to;
        int r = local_target(a, 0, binding, ntohs(port), udp, own, &to);
        *addr = htonl(to);
        return r;
    }
    if ((a >> 24) == 127) return binding ? -EADDRNOTAVAIL : -ECONNREFUSED;
    if (!egress) return binding ? -EADDRNOTAVAIL : -ENETUNREACH;
    return public_only(egress, binding, port, a);
}

/* Rewrites the address in `ss` for a bind (binding) or a destination. 0 or a negative errno. */
static int rewrite(struct sockaddr_storage *ss, socklen_t *len, int binding, int udp, uint32_t own,
                   int egress) {
    if (*len < (socklen_t)sizeof(sa_family_t)) return 0; /* the kernel refuses it */
    switch (ss->ss_family) {
    case AF_INET: {
        if (*len < (socklen_t)sizeof(struct sockaddr_in)) return 0;
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        return rewrite_v4(&in->sin_addr.s_addr, in->sin_port, binding, udp, own, egress);
    }
    case AF_INET6: {
        if (*len < (socklen_t)sizeof(struct sockaddr_in6)) return 0;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        struct in6_addr *a = &in6->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a)) {
            /* :: takes the attempt's IPv4 address (dual-stack: IPv4 clients of 127.0.0.1 reach
             * it), ::1 its second one; both v4-mapped, so a V6ONLY socket cannot bind them and
             * gets the kernel's EINVAL. */
            uint32_t to;
            int r = local_target(0, IN6_IS_ADDR_LOOPBACK(a), binding, ntohs(in6->sin6_port), udp, own, &to);
            memset(a, 0, sizeof *a);
            a->s6_addr[10] = a->s6_addr[11] = 0xff;
            uint32_t v4 = htonl(to);
            memcpy(&a->s6_addr[12], &v4, 4);
            return r;
        }
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            uint32_t v4;
            memcpy(&v4, &a->s6_addr[12], 4);
            int r = rewrite_v4(&v4, in6->sin6_port, binding, udp, own, egress);
            memcpy(&a->s6_addr[12], &v4, 4);
            return r;
        }
        if (!egress) return binding ? -EADDRNOTAVAIL : -ENETUNREACH;
        if (egress == FB_EGRESS_PUBLIC && !binding && ntohs(in6->sin6_port) != 53) {
            const char *why;
            if (fb_egress_forbidden((const struct sockaddr *)in6, &why)) return -ENETUNREACH;
        }
        return 0;
    }
    case AF_UNIX: {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        size_t name = (size_t)*len - offsetof(struct sockaddr_un, sun_path);
        if (name == 0) return 0;
        /* A socket file in /tmp goes to the attempt's own /tmp (the path guard), in place. */
        if (un->sun_path[0] != 0) return fb_pathguard_rewrite(un->sun_path, name), 0;
        /* An abstract name: prefixed with the attempt's address, so two attempts never meet.
         * In place (udp < 0: no socket of ours) the name cannot grow: Landlock scopes it. */
        if (udp < 0) return 0;
        char prefix[32];
        int pl = snprintf(prefix, sizeof prefix, "flakebox-%08x/", own);
        if (name + (size_t)pl > sizeof un->sun_path) return -ENAMETOOLONG;
        memmove(un->sun_path + 1 + pl, un->sun_path + 1, name - 1);
        memcpy(un->sun_path + 1, prefix, (size_t)pl);
        *len += (socklen_t)pl;
        return 0;
    }
    case AF_UNSPEC:
        return 0;
    default:
        return egress ? 0 : -EAFNOSUPPORT;
    }
}

static int read_address(pid_t pid, uint64_t ptr, uint64_t len, struct sockaddr_storage *ss, socklen_t *out) {
    if (len > sizeof *ss) return -EINVAL;
    memset(ss, 0, sizeof *ss);
    int r = fb_target_read(pid, ss, ptr, (size_t)len);
    *out = (socklen_t)len;
    return r;
}

/* Copies the iovecs of a sendmsg into one buffer. */
static int read_payload(pid_t pid, uint64_t iov_ptr, size_t iovlen, char **buf, size_t *total) {
    if (iovlen > FB_IOV_MAX) return -EMSGSIZE;
    struct iovec iov[FB_IOV_MAX];
    int r = fb_target_read(pid, iov, iov_ptr, iovlen * sizeof iov[0]);
    if (r) return r;
    size_t n = 0;
    for (size_t k = 0; k < iovlen; k++) {
        if (iov[k].iov_len > FB_SEND_MAX || n + iov[k].iov_len > FB_SEND_MAX) return -EMSGSIZE;
        n += iov[k].iov_len;
    }
    *buf = malloc(n ? n : 1);
    if (!*buf) return -ENOMEM;
    size_t off = 0;
    for (size_t k = 0; k < iovlen; k++) {
        if (iov[k].iov_len == 0) continue;
        r = fb_target_read(pid, *buf + off, (uint64_t)(uintptr_t)iov[k].iov_base, iov[k].iov_len);
        if (r) {
            free(*buf);
            return r;
        }
        off += iov[k].iov_len;
    }
    *total = n;
    return 0;
}

/* When pidfd_getfd is refused (Docker's default profile allows it only with CAP_SYS_PTRACE): the
 * rewritten address is written over the target's own and the call goes on in the kernel. A
 * second thread of the target could change it again before the kernel reads it: see the README,
 * this mode stops accidents, not a test that races its own call. */
/* What /proc says of the target's unix socket `fd`: its type, whether it is still unnamed and
 * unconnected, its file flags. 0, or a negative errno (-EAGAIN: leave it alone). */
static int unix_socket_facts(pid_t pid, int fd, int *type, int *flags) {
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0) return -EBADF;
    link[n] = 0;
    unsigned long inode;
    if (sscanf(link, "socket:[%lu]", &inode) != 1) return -ENOTSOCK;
    FILE *f = fopen("/proc/net/unix", "re");
    if (!f) return -EAGAIN;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned int t = 0, st = 0;
        unsigned long ino = 0;
        char name[256] = "";
        int got = sscanf(line, "%*s %*x %*x %*x %x %x %lu %255s", &t, &st, &ino, name);
        /* Unnamed (no path column) and unconnected (state 1): replacing it loses nothing. */
        if (got >= 3 && ino == inode) found = got == 3 && st == 1 ? 1 : -1, *type = (int)t;
    }
    fclose(f);
    if (found != 1) return -EAGAIN;
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
    f = fopen(path, "re");
    if (!f) return -EAGAIN;
    unsigned int fl = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "flags: %o", &fl) == 1) break;
    fclose(f);
    *flags = (int)fl;
    return 0;
}

/* An abstract unix name cannot grow in place: the launcher makes a socket of the same type,
 * binds or connects it under the attempt's prefix and puts it in the target's slot (ADDFD). */
static int replace_unix_socket(int listener, const struct seccomp_notif *req, int fd,
                               const struct sockaddr_storage *ss, socklen_t len, int binding, uint32_t own) {
    int type, flags;
    int r = unix_socket_facts((pid_t)req->pid, fd, &type, &flags);
    if (r) return r == -EAGAIN ? FB_CONTINUE : r;
    struct sockaddr_storage copy = *ss;
    socklen_t l = len;
    r = rewrite(&copy, &l, binding, 0, own, 0);
    if (r) return r;
    int sock = socket(AF_UNIX, type | SOCK_CLOEXEC | ((flags & O_NONBLOCK) ? SOCK_NONBLOCK : 0), 0);
    if (sock < 0) return -errno;
    r = binding ? bind(sock, (struct sockaddr *)&copy, l) : connect(sock, (struct sockaddr *)&copy, l);
    if (r < 0 && !(errno == EINPROGRESS && !binding)) {
        r = -errno;
        close(sock);
        return r;
    }
    struct seccomp_notif_addfd add = {.id = req->id,
                                      .flags = SECCOMP_ADDFD_FLAG_SETFD,
                                      .srcfd = (uint32_t)sock,
                                      .newfd = (uint32_t)fd,
                                      .newfd_flags = (flags & O_CLOEXEC) ? O_CLOEXEC : 0};
    long v = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    int saved = errno;
    close(sock);
    return v < 0 ? -saved : 0;
}

static int rewrite_in_place(int listener, const struct seccomp_notif *req, uint64_t where,
                            const struct sockaddr_storage *ss, socklen_t len, int binding, uint32_t own,
                            int egress) {
    int nr = req->data.nr;
    if (ss->ss_family == AF_UNIX && len > (socklen_t)offsetof(struct sockaddr_un, sun_path) &&
        ((const struct sockaddr_un *)ss)->sun_path[0] == 0 && (nr == SYS_bind || nr == SYS_connect))
        return replace_unix_socket(listener, req, (int)req->data.args[0], ss, len, binding, own);
    struct sockaddr_storage copy = *ss;
    socklen_t l = len;
    int r = rewrite(&copy, &l, binding, -1, own, egress);
    if (r) return r;
    if (memcmp(&copy, ss, len) != 0) {
        r = fb_target_write((pid_t)req->pid, where, &copy, len);
        if (r) return r;
    }
    return FB_CONTINUE;
}

/* Performs the notified call; returns its result or a negative errno; 1 << 30 = let it continue. */
static long emulate(const struct seccomp_notif *req, int listener, uint32_t own, int egress) {
    pid_t pid = (pid_t)req->pid;
    int nr = req->data.nr;
    const __u64 *a = req->data.args;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    char *payload = NULL;
    size_t plen = 0;
    int flags = 0, r = 0;
    if (fb_pathguard_notified(nr)) return fb_pathguard_handle(listener, req);

    uint64_t where = 0; /* the address's place in the target's memory */
    uint64_t iov = 0;   /* sendmsg: its iovec array */
    size_t iovlen = 0;
    int has_control = 0;
    if (nr == SYS_bind || nr == SYS_connect) {
        where = a[1];
        r = read_address(pid, a[1], a[2], &ss, &len);
    } else if (nr == SYS_sendto) {
        flags = (int)a[3];
        where = a[4];
        r = read_address(pid, a[4], a[5], &ss, &len);
    } else if (nr == SYS_sendmsg) {
        struct msghdr m;
        flags = (int)a[2];
        r = fb_target_read(pid, &m, a[1], sizeof m);
        /* Without a name the message goes to the peer connect checked; the kernel reads the
         * msghdr again (a racing thread could add a name: see the README, what is not covered). */
        if (!r && m.msg_name == NULL) return FB_CONTINUE;
        where = (uint64_t)(uintptr_t)m.msg_name;
        iov = (uint64_t)(uintptr_t)m.msg_iov;
        iovlen = m.msg_iovlen;
        has_control = m.msg_controllen != 0;
        if (!r) r = read_address(pid, where, m.msg_namelen, &ss, &len);
    } else if (nr == SYS_sendmmsg) {
        struct mmsghdr v[16];
        size_t n = a[2] > 16 ? 16 : (size_t)a[2];
        r = n ? fb_target_read(pid, v, a[1], n * sizeof v[0]) : 0;
        if (r) return r;
        for (size_t k = 0; k < n; k++)
            if (v[k].msg_hdr.msg_name) return -EOPNOTSUPP;
        return FB_CONTINUE;
    } else {
        return -ENOSYS;
    }
    if (r) goto out;
    /* The target might have died and its pid been reused while we read its memory. */
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id)) {
        r = -ENOENT;
        goto out;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, pid, PIDFD_THREAD);
    if (pidfd < 0) pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        r = -ESRCH;
        goto out;
    }
    int sock = (int)syscall(SYS_pidfd_getfd, pidfd, (int)a[0], 0);
    int saved = errno;
    close(pidfd);
    if (sock < 0 && saved == EBADF) {
        r = -EBADF;
        goto out;
    }
    if (sock < 0) {
        r = rewrite_in_place(listener, req, where, &ss, len, nr == SYS_bind, own, egress);
        goto out;
    }
    /* Performed here: the payload is copied too (a datagram; a stream's send takes no address). */
    if (nr == SYS_sendto) {
        plen = (size_t)a[2];
        r = plen > FB_SEND_MAX ? -EMSGSIZE : 0;
        if (!r) payload = malloc(plen ? plen : 1);
        if (!r) r = payload ? (plen ? fb_target_read(pid, payload, a[1], plen) : 0) : -ENOMEM;
    } else if (nr == SYS_sendmsg) {
        r = has_control ? -EOPNOTSUPP : read_payload(pid, iov, iovlen, &payload, &plen);
    }
    if (r) {
        close(sock);
        goto out;
    }
    int type = 0;
    socklen_t tl = sizeof type;
    getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &tl);
    r = rewrite(&ss, &len, nr == SYS_bind, type == SOCK_DGRAM, own, egress);
    /* A relative unix socket path is the target's, from its working directory. */
    int here = -1;
    if (!r && ss.ss_family == AF_UNIX && len > (socklen_t)offsetof(struct sockaddr_un, sun_path) &&
        ((struct sockaddr_un *)&ss)->sun_path[0] != '/' && ((struct sockaddr_un *)&ss)->sun_path[0] != 0) {
        char cwd[64];
        snprintf(cwd, sizeof cwd, "/proc/%d/cwd", pid);
        int there = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
        here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (there < 0 || here < 0 || fchdir(there)) r = -EACCES;
        if (there >= 0) close(there);
    }
    if (!r) {
        long v;
        if (nr == SYS_bind)
            v = bind(sock, (struct sockaddr *)&ss, len);
        else if (nr == SYS_connect)
            v = connect(sock, (struct sockaddr *)&ss, len);
        else
            v = sendto(sock, payload, plen, flags | MSG_DONTWAIT, (struct sockaddr *)&ss, len);
        r = v < 0 ? -errno : (int)v;
    }
    if (here >= 0) {
        /* Back where it was (nothing else of ours uses the working directory). */
        if (fchdir(here)) {
        }
        close(here);
    }
    close(sock);
out:
    free(payload);
    return r;
}

void fb_netguard_handle(int listener, uint32_t own, int egress) {
    union {
        struct seccomp_notif req;
        char space[256];
    } in;
    union {
        struct seccomp_notif_resp resp;
        char space[64];
    } out;
    memset(&in, 0, sizeof in);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &in.req)) return;
    long r = emulate(&in.req, listener, own, egress);
    memset(&out, 0, sizeof out);
    out.resp.id = in.req.id;
    if (r == FB_CONTINUE)
        out.resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    else if (r < 0)
        out.resp.error = (int)r;
    else
        out.resp.val = r;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &out.resp);
}
