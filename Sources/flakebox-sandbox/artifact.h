/* Reading files the test left behind (JUnit XML) from inside the sandbox, as untrusted data. */
#ifndef FB_ARTIFACT_H
#define FB_ARTIFACT_H

#include "plan.h"

/* Writes every regular file matching the plan's artifact patterns to the artifact fd, each as a
 * line "artifact SIZE TRUNCATED PATH\n" followed by SIZE bytes. */
void fb_collect_artifacts(const struct fb_plan *plan);

#endif
