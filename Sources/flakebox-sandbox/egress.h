#ifndef FLAKEBOX_EGRESS_H
#define FLAKEBOX_EGRESS_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The egress proxy of a sandbox with `network: proxy`: the attempt's network namespace holds
 * only its loopback and a listening socket on 127.0.0.1 that its PID 1 made there and handed
 * out; this process, in the host's namespace, accepts on it and serves HTTP CONNECT to public
 * addresses only (what `pip`, `git`, `npm` and `cargo` use through HTTPS_PROXY). Every address
 * a name resolves to is checked, the connection goes to the checked address, and loopback,
 * private, link-local, CGNAT, unique-local, multicast and reserved ranges are refused with a
 * 403 that names the address. Nothing but CONNECT is served. */

/* Whether `sa` is an address a sandbox must never reach through the proxy (nonzero: refused);
 * `why` gets a short name of its range. */
int fb_egress_forbidden(const struct sockaddr *sa, const char **why);

/* Forks the proxy serving `listener` (its own process group, dies with the caller). Returns
 * its pid, or -1. `allow_private` (tests only) lets it reach any address. */
pid_t fb_egress_start(int listener, int allow_private);

#endif
