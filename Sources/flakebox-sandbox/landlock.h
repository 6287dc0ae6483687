/* Landlock for the minimal tier: the attempt writes only beneath its own directories and reads
 * only what the policy shows; with ABI >= 6 its signals and abstract unix sockets stay inside. */
#ifndef FB_LANDLOCK_H
#define FB_LANDLOCK_H

#include "plan.h"

/* The kernel's Landlock ABI version, or 0 (none, or disabled at boot). */
int fb_landlock_abi(void);
/* Restricts this process (after no_new_privs) to the plan's landlock paths. 0, or -1 reported.
 * The launcher (launcher != 0) may also write /proc files (an attempt's memory, for the net guard). */
int fb_landlock_apply(const struct fb_plan *plan, int launcher);

#endif
