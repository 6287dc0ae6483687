#include "egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* A request line and its headers must fit here (a CONNECT carries a few short headers). */
#define FB_EGRESS_HEADER_MAX 8192
/* Seconds a client may take to send its request, and a connect may take. */
#define FB_EGRESS_TIMEOUT 15
/* Seconds a tunnel may sit idle both ways before it is closed. */
#define FB_EGRESS_IDLE 600
/* Tunnels open at once. */
#define FB_EGRESS_CONNECTIONS 64

static int v4_forbidden(uint32_t a, const char **why) {
    static const struct {
        uint32_t net, mask;
        const char *name;
    } ranges[] = {
        {0x00000000, 0xff000000, "this-network"},  {0x0a000000, 0xff000000, "private"},
        {0x64400000, 0xffc00000, "CGNAT"},         {0x7f000000, 0xff000000, "loopback"},
        {0xa9fe0000, 0xffff0000, "link-local"},    {0xac100000, 0xfff00000, "private"},
        {0xc0000000, 0xffffff00, "IETF protocol"}, {0xc0a80000, 0xffff0000, "private"},
        {0xc6120000, 0xfffe0000, "benchmarking"},  {0xe0000000, 0xf0000000, "multicast"},
        {0xf0000000, 0xf0000000, "reserved"},
    };
    for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++)
        if ((a & ranges[k].mask) == ranges[k].net) return *why = ranges[k].name, 1;
    return 0;
}

int fb_egress_forbidden(const struct sockaddr *sa, const char **why) {
    *why = "unsupported family";
    if (sa->sa_family == AF_INET)
        return v4_forbidden(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr), why);
    if (sa->sa_family != AF_INET6) return 1;
    const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t zero[15] = {0};
    uint32_t v4;
    /* Forms that carry an IPv4 address are judged by it. */
    if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12)) {
        memcpy(&v4, b + 12, 4);
        return v4_forbidden(ntohl(v4), why);
    }
    if (b[0] == 0x20 && b[1] == 0x02) { /* 6to4 */
        memcpy(&v4, b + 2, 4);
        return v4_forbidden(ntohl(v4), why);
    }
    if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1))
        return *why = b[15] ? "loopback" : "unspecified", 1;
    if ((b[0] & 0xfe) == 0xfc) return *why = "unique-local", 1;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return *why = "link-local", 1;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return *why = "site-local", 1;
    if (b[0] == 0xff) return *why = "multicast", 1;
    return 0;
}

static void reply(int fd, const char *status) {
    char line[512];
    int n =
        snprintf(line, sizeof line, "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
    if (n > 0 && write(fd, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1)) < 0) {
    }
}

/* Reads the request up to its blank line. Returns its length (bytes after it stay in buf past
 * the end), or -1. */
static ssize_t read_head(int fd, char *buf, size_t cap, size_t *have) {
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        n += (size_t)r;
        buf[n] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) return *have = n, (ssize_t)(end + 4 - buf);
    }
    return -1;
}

/* `CONNECT host:port HTTP/1.x`: host a name of [A-Za-z0-9.-] or a bracketed IPv6 literal. */
static int parse_connect(char *line, char **host, char **port) {
    if (strncmp(line, "CONNECT ", 8) != 0) return -1;
    char *target = line + 8, *sp = strchr(target, ' ');
    if (!sp || strncmp(sp, " HTTP/1.", 8) != 0) return -1;
    *sp = 0;
    char *colon = strrchr(target, ':');
    if (!colon || colon == target) return -1;
    *colon = 0;
    *port = colon + 1;
    char *end;
    long p = strtol(*port, &end, 10);
    if (*end || p < 1 || p > 65535 || strlen(*port) > 5) return -1;
    if (target[0] == '[') {
        size_t len = strlen(target);
        if (len < 3 || target[len - 1] != ']') return -1;
        target[len - 1] = 0;
        target++;
        struct in6_addr a;
        if (inet_pton(AF_INET6, target, &a) != 1) return -1;
    } else {
        if (strlen(target) > 253) return -1;
        for (char *c = target; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '.' || *c == '-'))
                return -1;
    }
    *host = target;
    return 0;
}

static int pipe_both(int a, int b) {
    char buf[65536];
    struct pollfd fds[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
    int open_a = 1, open_b = 1;
    while (open_a || open_b) {
        fds[0].fd = open_a ? a : -1;
        fds[1].fd = open_b ? b : -1;
        int r = poll(fds, 2, FB_EGRESS_IDLE * 1000);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        for (int k = 0; k < 2; k++) {
            if (!fds[k].revents) continue;
            int from = k ? b : a, to = k ? a : b;
            ssize_t n = read(from, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                shutdown(to, SHUT_WR);
                if (k)
                    open_b = 0;
                else
                    open_a = 0;
                continue;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) return -1;
                off += w;
            }
        }
    }
    return 0;
}

static void serve(int client, int allow_private) {
    struct timeval tv = {.tv_sec = FB_EGRESS_TIMEOUT};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[FB_EGRESS_HEADER_MAX + 1];
    size_t have = 0;
    ssize_t head = read_head(client, buf, sizeof buf, &have);
    if (head < 0) return reply(client, "400 flakebox: a request line and headers of at most 8 KiB");
    char extra[FB_EGRESS_HEADER_MAX];
    size_t n_extra = have - (size_t)head;
    memcpy(extra, buf + head, n_extra);
    char *eol = strstr(buf, "\r\n");
    *eol = 0;
    char *host, *port;
    if (parse_connect(buf, &host, &port))
        return reply(client, "405 flakebox: the sandbox's proxy serves only CONNECT host:port (HTTPS)");
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    if (getaddrinfo(host, port, &hints, &list) || !list)
        return reply(client, "502 flakebox: the name does not resolve");
    /* Every address the name has is judged: a name that mixes a public address with a private
     * one (DNS rebinding) is refused whole. */
    for (struct addrinfo *ai = list; ai && !allow_private; ai = ai->ai_next) {
        const char *why;
        if (!fb_egress_forbidden(ai->ai_addr, &why)) continue;
        char text[INET6_ADDRSTRLEN] = "?", status[256];
        const void *raw = ai->ai_family == AF_INET
                              ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                              : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        inet_ntop(ai->ai_family, raw, text, sizeof text);
        snprintf(status, sizeof status, "403 flakebox: %s is a %s address, which a sandbox may not reach",
                 text, why);
        freeaddrinfo(list);
        return reply(client, status);
    }
    int up = -1;
    for (struct addrinfo *ai = list; ai && up < 0; ai = ai->ai_next) {
        up = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (up < 0) continue;
        /* SO_SNDTIMEO bounds connect() too. */
        setsockopt(up, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(up, ai->ai_addr, ai->ai_addrlen)) {
            close(up);
            up = -1;
        }
    }
    freeaddrinfo(list);
    if (up < 0) return reply(client, "502 flakebox: could not connect");
    struct timeval none = {0};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    setsockopt(up, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    if (write(client, ok, sizeof ok - 1) != (ssize_t)(sizeof ok - 1)) return;
    if (n_extra && write(up, extra, n_extra) != (ssize_t)n_extra) return;
    pipe_both(client, up);
    close(up);
}

pid_t fb_egress_start(int listener, int allow_private) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    setpgid(0, 0);
    prctl(PR_SET_NAME, "flakebox-egress", 0, 0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Nothing of the helper's but the listener: not its report, lifeline or cgroup files. */
    if (listener > 3) close_range(3, (unsigned)listener - 1, 0);
    close_range((unsigned)listener + 1, ~0U, 0);
    /* One child per connection, at most FB_EGRESS_CONNECTIONS at once (the attempt's pids limit
     * holds them too). */
    int active = 0;
    for (;;) {
        while (active > 0 && waitpid(-1, NULL, active >= FB_EGRESS_CONNECTIONS ? 0 : WNOHANG) > 0)
            active--;
        int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            _exit(0);
        }
        pid_t child = fork();
        if (child == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            close(listener);
            serve(c, allow_private);
            _exit(0);
        }
        if (child > 0) active++;
        close(c);
    }
}
