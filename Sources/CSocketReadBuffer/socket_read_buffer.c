// libmosquitto reads an MQTT packet with one read(2) for its first byte, one per byte of its length, then one
// for the rest, and one more that finds nothing: four or five system calls per message. This file defines
// `read`, so that in a program linked with it the calls of libmosquitto (and of everyone else) come here first.
// Only the descriptor that the calling thread attached is buffered, and only on that thread (the state is
// thread-local): libmosquitto's network thread reads its socket in one system call per 64 KiB, and every other
// read in the process goes straight to the kernel. Semantics are those of read(2) on a non-blocking socket: a
// short read, 0 at end of stream, -1 with errno set, and bytes in order, none twice.
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE  // its inline `read` wrapper would clash with the definition below
#include "socket_read_buffer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

enum { BUFFER_CAPACITY = 64 * 1024 };

static __thread int buffered_fd = -1;
static __thread unsigned char *buffer = NULL;
static __thread size_t start = 0;
static __thread size_t end = 0;
static __thread uint64_t fills = 0;

static ssize_t kernel_read(int fd, void *destination, size_t count) {
    return (ssize_t)syscall(SYS_read, fd, destination, count);
}

ssize_t read(int fd, void *destination, size_t count) {
    // Attached means buffered_fd >= 0 with a buffer (attach and detach keep the two together).
    if (buffered_fd < 0 || fd != buffered_fd) {
        return kernel_read(fd, destination, count);
    }
    if (start == end) {
        // A large read goes straight to the caller, as it would without the buffer.
        if (count >= BUFFER_CAPACITY) {
            return kernel_read(fd, destination, count);
        }
        ssize_t got = kernel_read(fd, buffer, BUFFER_CAPACITY);
        if (got <= 0) {
            return got;
        }
        fills += 1;
        start = 0;
        end = (size_t)got;
    }
    size_t available = end - start;
    size_t n = count < available ? count : available;
    memcpy(destination, buffer + start, n);
    start += n;
    return (ssize_t)n;
}

int boilerpipeline_read_buffer_attach(int fd) {
    if (fd == buffered_fd) {
        return 0;
    }
    start = 0;
    end = 0;
    buffered_fd = fd;
    if (fd < 0) {
        return 0;
    }
    if (buffer == NULL) {
        buffer = malloc(BUFFER_CAPACITY);
        if (buffer == NULL) {
            buffered_fd = -1;
            return -1;
        }
    }
    return 0;
}

void boilerpipeline_read_buffer_detach(void) {
    buffered_fd = -1;
    start = 0;
    end = 0;
    free(buffer);
    buffer = NULL;
}

size_t boilerpipeline_read_buffer_pending(void) {
    return buffered_fd < 0 ? 0 : end - start;
}

uint64_t boilerpipeline_read_buffer_fills(void) {
    return fills;
}
