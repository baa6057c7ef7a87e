// Buffered writes to the MQTT socket, for the network thread only (see socket_write_buffer.c).
#ifndef BOILERPIPELINE_SOCKET_WRITE_BUFFER_H
#define BOILERPIPELINE_SOCKET_WRITE_BUFFER_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// From now on, `write` calls on `fd` made by the calling thread append to a 16 KiB buffer, which
/// `boilerpipeline_write_buffer_flush` writes out (as does `close(fd)` on this thread). Any other descriptor, and
/// every other thread, writes as before. Drops whatever was buffered for another descriptor. `fd` < 0 detaches.
/// Returns 0, or -1 if the buffer could not be allocated (writes are then unbuffered).
int boilerpipeline_write_buffer_attach(int fd);

/// Stops buffering on the calling thread, drops what was buffered (the connection is gone) and frees the buffer.
void boilerpipeline_write_buffer_detach(void);

/// Writes out what the calling thread has buffered. 0 when all of it went; -1 with errno otherwise: EAGAIN when
/// the socket is full (the rest stays buffered: flush again when it is writable), another error when the
/// connection failed (what was buffered is dropped, and the next write fails with that error).
int boilerpipeline_write_buffer_flush(void);

/// Bytes the calling thread has buffered and not yet written out: a loop must not wait long while there are some.
size_t boilerpipeline_write_buffer_pending(void);

/// System calls that wrote buffered bytes (or one large write) on the calling thread, since start.
uint64_t boilerpipeline_write_buffer_writes(void);

/// For `write` (self_wake.c): 1 when `fd` is the calling thread's buffered descriptor, with the write's result in
/// `*result` (and errno set when it is -1); 0 when the write is not this buffer's to take.
int boilerpipeline_write_buffer_take(int fd, const void *source, size_t count, ssize_t *result);
#endif
