/* pcm.h - the PCM clips built into an FW_PCM firmware image (main.c): a pcm.c (generated, e.g. by
 * Tests/KDCTests/AudioFirmwareTests.swift) defines fw_pcm_count clips of fw_pcm_samples int16
 * samples each, back to back, at the model's front-end sample rate. */
#ifndef FW_PCM_H
#define FW_PCM_H

#include <stdint.h>

extern const uint32_t fw_pcm_count;
extern const uint32_t fw_pcm_samples;
extern const int16_t fw_pcm[];

#endif
