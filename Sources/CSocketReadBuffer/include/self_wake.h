// Skips libmosquitto's wake-up writes from its own network thread (see self_wake.c).
#ifndef BOILERPIPELINE_SELF_WAKE_H
#define BOILERPIPELINE_SELF_WAKE_H
#include <stdint.h>

/// From now on the calling thread records the last socket pair it opens (call around `mosquitto_new`).
void boilerpipeline_socketpair_capture_begin(void);

/// Stops recording; returns the write end of the socket pair opened since `..._capture_begin`, or -1 if none was.
int boilerpipeline_socketpair_capture_end(void);

/// From now on one-byte writes to `fd` made by the calling thread are skipped (counted, and reported as written).
/// Other threads and other descriptors write as before. `fd` < 0 stops skipping.
void boilerpipeline_self_wake_skip(int fd);

/// One-byte writes the calling thread has skipped so far.
uint64_t boilerpipeline_self_wakes_skipped(void);
#endif
