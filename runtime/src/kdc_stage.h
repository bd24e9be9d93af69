/* kdc_stage.h - the input-stage block check kdc_init calls (src/kdc_frontend.c; docs/FORMAT.md
 * 3.7). Internal to the runtime. */
#ifndef KDC_STAGE_H
#define KDC_STAGE_H
#include "kdc.h"

/* KDC_STAGE (default 1): 1 builds the input stage (the audio front end, sensor normalization, the
 * streaming API: src/kdc_frontend.c); 0 leaves all of it out, for a smaller image when the model
 * has none: kdc_init then refuses an artifact with KDC_FLAG_INPUT_STAGE (KDC_ERR_UNSUPPORTED)
 * right after the header checks, and the kdc_stage / kdc_frontend_* / kdc_sensor_quantize /
 * kdc_stream_* functions do not exist (a program calling them does not link). */
#ifndef KDC_STAGE
#define KDC_STAGE 1
#endif
#if KDC_STAGE != 0 && KDC_STAGE != 1
#error "KDC_STAGE must be 0 or 1"
#endif

/* Validates the input-stage block at body offset start of a model whose header, tensors and ops
 * kdc_init has validated (m->tensors_off set; the input tensor is tensor 0), reading at most the
 * raw body bytes; sets m->stage on KDC_OK, else returns KDC_ERR_STAGE. */
kdc_status kdc__stage_check(kdc_model *m, const uint8_t *body, uint32_t raw, uint32_t start);

#endif /* KDC_STAGE_H */
