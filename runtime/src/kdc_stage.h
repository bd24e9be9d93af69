/* kdc_stage.h - the input-stage block check kdc_init calls (src/kdc_frontend.c; docs/FORMAT.md
 * 3.7). Internal to the runtime. */
#ifndef KDC_STAGE_H
#define KDC_STAGE_H
#include "kdc.h"

/* Validates the input-stage block at body offset start of a model whose header, tensors and ops
 * kdc_init has validated (m->tensors_off set; the input tensor is tensor 0), reading at most the
 * raw body bytes; sets m->stage on KDC_OK, else returns KDC_ERR_STAGE. */
kdc_status kdc__stage_check(kdc_model *m, const uint8_t *body, uint32_t raw, uint32_t start);

#endif /* KDC_STAGE_H */
