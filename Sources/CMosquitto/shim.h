// libmosquitto, as installed by Debian's libmosquitto-dev (found through pkg-config "libmosquitto").
#ifndef BOILERPIPELINE_CMOSQUITTO_SHIM_H
#define BOILERPIPELINE_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
