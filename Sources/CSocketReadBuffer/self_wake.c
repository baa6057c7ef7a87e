// libmosquitto wakes its network loop with a pipe: every packet it queues (each PUBACK of a QoS 1 message
// received) writes one byte to its socket pair, which that loop's `pselect` then sees and reads back. That
// wake-up is for packets queued by other threads; a packet queued by the network thread itself, from inside a
// message callback, goes out in the same thread's next pass without it. So it costs the network thread one
// `write` per message received, and the extra `pselect` passes that read the bytes back, for nothing.
//
// This file defines `socketpair` and `write` (which also serves the network thread's write buffer, see
// socket_write_buffer.c), so that in a program linked with it those calls of libmosquitto
// (and of everyone else) come here first. Making a client on a thread that is capturing records the pair that
// libmosquitto opens (the client's wake-up pipe); the network thread then names its write end, and from then on
// a one-byte write to it from that thread, and only that thread, is counted and skipped. Every other write, and
// the same write from any other thread (a publish from elsewhere, which does need to wake the loop), goes to
// the kernel as before.
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE  // its inline wrappers would clash with the definitions below
#include "self_wake.h"
#include "socket_write_buffer.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static __thread int capturing = 0;
static __thread int captured[2] = {-1, -1};
static __thread int own_wake_fd = -1;
static __thread uint64_t skipped = 0;

int socketpair(int domain, int type, int protocol, int sv[2]) {
    int rc = (int)syscall(SYS_socketpair, domain, type, protocol, sv);
    if (rc == 0 && capturing) {
        captured[0] = sv[0];
        captured[1] = sv[1];
    }
    return rc;
}

ssize_t write(int fd, const void *source, size_t count) {
    if (fd == own_wake_fd && fd >= 0 && count == 1) {
        skipped += 1;
        return 1;
    }
    ssize_t result;
    if (boilerpipeline_write_buffer_take(fd, source, count, &result)) {
        return result;
    }
    return (ssize_t)syscall(SYS_write, fd, source, count);
}

void boilerpipeline_socketpair_capture_begin(void) {
    capturing = 1;
    captured[0] = -1;
    captured[1] = -1;
}

int boilerpipeline_socketpair_capture_end(void) {
    capturing = 0;
    return captured[1];
}

void boilerpipeline_self_wake_skip(int fd) {
    own_wake_fd = fd;
}

uint64_t boilerpipeline_self_wakes_skipped(void) {
    return skipped;
}
