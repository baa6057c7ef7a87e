// Buffered reads of the MQTT socket, for the network thread only (see socket_read_buffer.c).
#ifndef BOILERPIPELINE_SOCKET_READ_BUFFER_H
#define BOILERPIPELINE_SOCKET_READ_BUFFER_H
#include <stddef.h>
#include <stdint.h>

/// From now on, `read` calls on `fd` made by the calling thread are served from a buffer that one `read` of up
/// to 64 KiB fills. Any other descriptor, and every other thread, reads as before. Drops whatever was buffered
/// for another descriptor. `fd` < 0 detaches. Returns 0, or -1 if the buffer could not be allocated (reads are
/// then unbuffered).
int boilerpipeline_read_buffer_attach(int fd);

/// Stops buffering on the calling thread, drops what was buffered (the connection is gone) and frees the buffer.
void boilerpipeline_read_buffer_detach(void);

/// Bytes buffered on the calling thread and not yet read: the socket may be empty while these wait, so a loop
/// that waits for the socket to be readable must first hand these out.
size_t boilerpipeline_read_buffer_pending(void);

/// How many times the calling thread's buffer was filled from its descriptor (system calls made), since start.
uint64_t boilerpipeline_read_buffer_fills(void);
#endif
