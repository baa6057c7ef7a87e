// libmosquitto writes every packet with a write(2) of its own: each QoS 1 message received costs the network
// thread one system call for its 4-byte PUBACK. On the descriptor that the calling thread attached, and only on
// that thread, `write` (defined in self_wake.c) appends to a buffer here instead, and the network loop writes the
// buffer out in one system call once it has handled what has arrived (`boilerpipeline_write_buffer_flush`),
// before it waits or sleeps. This file also defines `close`: closing the attached descriptor writes out what is
// buffered first, since libmosquitto closes its socket as soon as it has written a DISCONNECT.
//
// Semantics are those of write(2) on a non-blocking socket whose send buffer is larger by this buffer: bytes go
// out in order, none twice. A write that does not fit waits for the bytes before it to go out, and fails with
// EAGAIN when they cannot yet (the caller tries again when the socket is writable, as for a full socket). A flush
// that fails for good (the connection is gone) drops what was buffered, as the kernel would, and the next write
// fails with that error.
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE  // its inline wrappers would clash with the definitions here and in self_wake.c
#include "socket_write_buffer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

enum { WRITE_CAPACITY = 16 * 1024 };

static __thread int buffered_fd = -1;
static __thread unsigned char *buffer = NULL;
static __thread size_t length = 0;
static __thread int failed_with = 0;
static __thread uint64_t writes = 0;

// Buffers for `fd` from now on (none when < 0), with nothing buffered and no error pending.
static void start_over(int fd) {
    buffered_fd = fd;
    length = 0;
    failed_with = 0;
}

static ssize_t kernel_write(int fd, const void *source, size_t count) {
    return (ssize_t)syscall(SYS_write, fd, source, count);
}

int boilerpipeline_write_buffer_flush(void) {
    if (buffered_fd < 0) {
        return 0;
    }
    size_t done = 0;
    while (done < length) {
        ssize_t n = kernel_write(buffered_fd, buffer + done, length - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int error = errno;
            if (error == EAGAIN || error == EWOULDBLOCK) {
                memmove(buffer, buffer + done, length - done);
                length -= done;
            } else {
                failed_with = error;
                length = 0;
            }
            errno = error;
            return -1;
        }
        writes += 1;
        done += (size_t)n;
    }
    length = 0;
    return 0;
}

int boilerpipeline_write_buffer_take(int fd, const void *source, size_t count, ssize_t *result) {
    if (buffered_fd < 0 || fd != buffered_fd) {
        return 0;
    }
    if (failed_with != 0) {
        errno = failed_with;
        failed_with = 0;
        *result = -1;
        return 1;
    }
    if (count > WRITE_CAPACITY - length) {
        // Out with what is buffered first, so that the bytes keep their order.
        if (boilerpipeline_write_buffer_flush() != 0) {
            failed_with = 0;  // reported now, by this write
            *result = -1;
            return 1;
        }
        if (count >= WRITE_CAPACITY) {
            *result = kernel_write(fd, source, count);
            if (*result > 0) {
                writes += 1;
            }
            return 1;
        }
    }
    memcpy(buffer + length, source, count);
    length += count;
    *result = (ssize_t)count;
    return 1;
}

int boilerpipeline_write_buffer_attach(int fd) {
    if (fd == buffered_fd) {
        return 0;
    }
    // Bytes for another descriptor belong to a connection that is gone.
    start_over(fd);
    if (fd < 0) {
        return 0;
    }
    if (buffer == NULL) {
        buffer = malloc(WRITE_CAPACITY);
        if (buffer == NULL) {
            start_over(-1);
            return -1;
        }
    }
    return 0;
}

void boilerpipeline_write_buffer_detach(void) {
    start_over(-1);
    free(buffer);
    buffer = NULL;
}

size_t boilerpipeline_write_buffer_pending(void) {
    return buffered_fd < 0 ? 0 : length;
}

uint64_t boilerpipeline_write_buffer_writes(void) {
    return writes;
}

int close(int fd) {
    if (fd >= 0 && fd == buffered_fd) {
        // Best effort, as the socket is about to go: a DISCONNECT written just before must still leave.
        (void)boilerpipeline_write_buffer_flush();
        start_over(-1);
    }
    return (int)syscall(SYS_close, fd);
}
