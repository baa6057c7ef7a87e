// libmosquitto, as installed by Debian's libmosquitto-dev (found through pkg-config "libmosquitto").
#ifndef BOILERPIPELINE_CMOSQUITTO_SHIM_H
#define BOILERPIPELINE_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>

/// Names the calling thread (shown by top -H, perf and gdb). glibc declares pthread_setname_np only with _GNU_SOURCE.
static inline int boilerpipeline_name_thread(const char *name) {
    extern int pthread_setname_np(pthread_t thread, const char *name);
    return pthread_setname_np(pthread_self(), name);
}
#endif
