/*
 * Copying and removing scratch trees in-process: a `cp -a` and an `rm -rf` process per attempt
 * cost the minimal tier ~2 ms each (fork, exec, the dynamic loader) for a checkout of a few files.
 */
#ifndef FB_TREE_H
#define FB_TREE_H

#include <sys/types.h>

/* Copies the tree at src to dst (which must not exist): directories, regular files (a reflink
 * where the filesystem has one, else copy_file_range), symlinks and fifos, with their modes and
 * times. Owned by uid/gid when uid is not (uid_t)-1, else by the source's owner (root only).
 * Never follows a symlink; hard links become separate files; sockets and devices are left out.
 * Returns 0 or an errno (dst may then be partly made). */
int fb_tree_copy(const char *src, const char *dst, uid_t uid, gid_t gid);

/* Removes the tree at path (a file, a symlink or a directory) without following any symlink,
 * making directories writable first where the caller owns them. Returns 0 or an errno (ENOENT
 * when nothing is there). */
int fb_tree_remove(const char *path);

#endif
