/* ops/get_rows.c - gather rows of a table of any dtype into F32: embedding lookup.
 *
 * y (n, n_idx) F32 = rows idx (I32 (n_idx)) of table (n, n_rows). Each row goes through the
 * level's to_f32 converter for the table dtype (LM_EUNSUPPORTED for a dtype without one), so
 * the result is exactly what lm_dequantize gives for that row. Every index is checked before
 * any row is written: one outside [0, n_rows) is LM_ERANGE naming the index and its position.
 *
 * Layout: table rows may be any distance apart; their elements must be contiguous (nb[0] is
 * the dtype's block size), except for plain (one-element block) dtypes, whose strided rows are
 * gathered into per-thread scratch first. idx may be strided; y rows are contiguous and may
 * span several dims (n_idx = y's row count). Threads split the index positions.
 */
#include <string.h>

#include "ops.h"

struct get_rows_task {
    struct lm_ctx *ctx;
    struct lm_tensor *y;
    const struct lm_tensor *table, *idx;
    bool gather; /* table elements strided: copy them together first */
};

static void get_rows_task(void *arg, int ith, int nth) {
    struct get_rows_task *t = arg;
    const struct lm_tensor *tb = t->table;
    void (*to_f32)(float *, const void *, int64_t) = t->ctx->k->to_f32[tb->dtype];
    size_t esz = lm_dtype_info(tb->dtype)->size;
    uint8_t *tmp =
        t->gather ? lm_ctx_slice(t->ctx, lm_pool_worker(), (size_t)tb->ne[0] * esz) : NULL;
    int64_t p0, p1;
    lm_split(t->idx->ne[0], 1, ith, nth, &p0, &p1);
    for (int64_t p = p0; p < p1; p++) {
        int32_t i = *(const int32_t *)((const char *)t->idx->data + p * t->idx->nb[0]);
        const char *src = (const char *)tb->data + (int64_t)i * tb->nb[1];
        if (t->gather) {
            for (int64_t e = 0; e < tb->ne[0]; e++)
                memcpy(tmp + (size_t)e * esz, src + e * tb->nb[0], esz);
            src = (const char *)tmp;
        }
        to_f32((float *)lm_row_ptr(t->y, p), src, tb->ne[0]);
    }
}

lm_status lm_get_rows(struct lm_tensor *y, const struct lm_tensor *table,
                      const struct lm_tensor *idx, struct lm_ctx *ctx) {
    lm_status s;
    if ((s = lm_check_ctx(ctx, "get_rows")) || (s = lm_check_f32_out(y, "get_rows", "y"))) return s;
    if (!table || !table->data) return lm_error(LM_EINVAL, "get_rows: table is NULL");
    if (!idx || !idx->data) return lm_error(LM_EINVAL, "get_rows: idx is NULL");
    const struct lm_dtype_info *ti = lm_dtype_info(table->dtype);
    if (!ti || !ctx->k->to_f32[table->dtype])
        return lm_error(LM_EUNSUPPORTED, "get_rows: no f32 converter for %s table%s%s",
                        lm_dtype_name(table->dtype), table->name ? " " : "",
                        table->name ? table->name : "");
    if (idx->dtype != LM_I32)
        return lm_error(LM_EINVAL, "get_rows: idx is %s, expected i32", lm_dtype_name(idx->dtype));
    if (idx->ne[1] != 1 || idx->ne[2] != 1 || idx->ne[3] != 1)
        return lm_error(LM_EINVAL, "get_rows: idx must be 1-D, has ne[1..3] = %lld, %lld, %lld",
                        (long long)idx->ne[1], (long long)idx->ne[2], (long long)idx->ne[3]);
    if (table->ne[2] != 1 || table->ne[3] != 1)
        return lm_error(LM_EINVAL, "get_rows: table must be 2-D, has ne[2..3] = %lld, %lld",
                        (long long)table->ne[2], (long long)table->ne[3]);
    const int64_t n = table->ne[0], n_rows = table->ne[1], n_idx = idx->ne[0];
    if (y->ne[0] != n || lm_tensor_nrows(y) != n_idx)
        return lm_error(LM_EINVAL,
                        "get_rows: y has rows of %lld x %lld, expected %lld x %lld (table row "
                        "length x indices)",
                        (long long)y->ne[0], (long long)lm_tensor_nrows(y), (long long)n,
                        (long long)n_idx);
    bool gather = table->nb[0] != (int64_t)ti->size;
    if (gather && ti->blck != 1)
        return lm_error(LM_EINVAL, "get_rows: %s table rows must be contiguous",
                        lm_dtype_name(table->dtype));
    for (int64_t p = 0; p < n_idx; p++) {
        int32_t i = *(const int32_t *)((const char *)idx->data + p * idx->nb[0]);
        if (i < 0 || i >= n_rows)
            return lm_error(LM_ERANGE,
                            "get_rows: index %d at position %lld is outside the table's %lld rows",
                            (int)i, (long long)p, (long long)n_rows);
    }
    int nth = lm_ctx_threads(ctx);
    if (gather && (s = lm_ctx_reserve(ctx, (size_t)nth * lm_round64((size_t)n * ti->size))))
        return s;
    struct get_rows_task t = {ctx, y, table, idx, gather};
    lm_pool_run(ctx->pool, get_rows_task, &t);
    return LM_OK;
}
