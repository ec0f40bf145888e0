/*
 * bpr.c - the "without distillation" baseline: the same MF student trained with plain BPR
 * (one sampled negative per train interaction, summed), through the MF family's own epoch,
 * and evaluated by the same loop as every distillation method (docs/method.md §8).
 */
#include "distill/distill.h"

static int bpr_init(hc_distiller *d)
{
    (void)d;
    return HC_OK;
}

static int bpr_epoch(hc_distiller *d, int32_t epoch, double *loss)
{
    hc_model *s = d->ctx->student;
    return s->type->train_epoch(s, d->ctx->ds, epoch + 1, loss);
}

const hc_distiller_type hc_distiller_bpr = {
    .name = "bpr",
    .title = "no distillation: the student trained with BPR on the train interactions",
    .size = sizeof(hc_distiller),
    .init = bpr_init,
    .epoch = bpr_epoch,
    .after_eval = NULL,
    .status = NULL,
    .free_fn = NULL,
};
