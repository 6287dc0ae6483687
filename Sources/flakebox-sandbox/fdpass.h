/*
 * One descriptor and one byte over a unix socket (SCM_RIGHTS): how PID 1 hands the helper what
 * it made inside the sandbox's namespaces (the egress proxy's listener, a committed overlay's upper).
 */
#ifndef FB_FDPASS_H
#define FB_FDPASS_H

/* Sends `byte`, with `fd` attached when fd >= 0. Returns 0, or -1 with errno. */
int fb_send_fd(int sock, int fd, char byte);

/* Receives one message; `flags` as recvmsg's (MSG_DONTWAIT). Returns the attached descriptor
 * (close-on-exec) or -1 when none came, with the byte in *byte (0 when no message came). */
int fb_receive_fd(int sock, int flags, char *byte);

#endif
