/*
 * Setup's writes, applied to the checkout (--overlay-commit). Setup writes through an overlay
 * whose upper lives on a tmpfs with the policy's size and inode limits, so a setup that fills
 * the disk fills that tmpfs instead; after a setup that passed, the helper (host namespaces, the
 * sandbox's own host uid, every process of the sandbox dead) copies the upper into the checkout:
 * whiteouts remove, opaque directories replace, the rest is copied with its mode and times.
 * Nothing is followed: every step is one name beneath a directory descriptor, O_NOFOLLOW.
 */
#ifndef FB_COMMIT_H
#define FB_COMMIT_H

/* Whether the upper's filesystem is (nearly) out of room or inodes: setup reached the limit. */
int fb_commit_limit_reached(int upper);

/* Applies the directory `upper` to the directory `lower`. Returns 0, or -1 with errno. */
int fb_commit_upper(int upper, int lower);

#endif
