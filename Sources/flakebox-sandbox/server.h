/*
 * The launcher as a fork server (`--serve FD`): one per sandbox, forking a launcher per request.
 */
#ifndef FB_SERVER_H
#define FB_SERVER_H

/* Descriptor slots a request may fill (the supervisor's table has 9); the same figure is in
 * CFlakeboxSpawn's fb_server_request. */
#define FB_SERVER_SLOTS 16

/* Serves requests on `sock` until its peer closes it; each request runs `launch` in a new
 * process. A new process that the supervisor could not be told of writes its pid (int32) on
 * `orphans` (-1: none) and exits. Returns the server's exit status. */
int fb_serve(int sock, int orphans, int (*launch)(int argc, char **argv));

#endif
