/*
 * SwiftPM links every executable through swiftc, which adds swiftrt.o: a constructor that
 * registers Swift metadata sections with the Swift runtime, and so drags libswiftCore (and
 * libstdc++) into this C-only helper. The helper has no Swift metadata and must not load the
 * runtime into the sandbox's PID 1 (nor pay ~3 ms of loading per attempt), so these two
 * definitions satisfy swiftrt.o, and --as-needed then drops the runtime libraries.
 * Tests/FlakeboxSandboxTests checks that the helper needs nothing but libc.
 */
void swift_addNewDSOImage(const void *image);
void swift_addNewDSOImage(const void *image) {
    (void)image;
}

int _swift_backtrace_isThunkFunction(const char *name);
int _swift_backtrace_isThunkFunction(const char *name) {
    (void)name;
    return 0;
}
