/* rt/tensor.c - tensor shapes, strides and views.
 *
 * A tensor is ne[4] elements with byte strides nb[4] over memory it does not own. For quantized
 * dtypes ne[0] counts elements, nb[0] is the block size and rows hold whole blocks. Views only
 * rewrite ne/nb/data; every shape given by a caller is checked here, not trusted.
 */
#include <string.h>

#include "lmrt.h"

static lm_status check_shape(enum lm_dtype dtype, int ndim, const int64_t *ne) {
    const struct lm_dtype_info *ti = lm_dtype_info(dtype);
    if (!ti) return lm_error(LM_EINVAL, "tensor dtype %d is not a dtype", (int)dtype);
    if (ndim < 1 || ndim > LM_MAX_DIMS)
        return lm_error(LM_EINVAL, "tensor has %d dims (1..%d allowed)", ndim, LM_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (ne[i] < 1)
            return lm_error(LM_EINVAL, "tensor dim %d is %lld (must be >= 1)", i, (long long)ne[i]);
    if (ne[0] % ti->blck)
        return lm_error(LM_EINVAL, "%s row of %lld elements is not a whole number of %d-blocks",
                        ti->name, (long long)ne[0], (int)ti->blck);
    int64_t bytes = ne[0] / ti->blck;
    for (int i = 0; i < ndim; i++) /* the whole extent must be addressable */
        if (__builtin_mul_overflow(bytes, i ? ne[i] : (int64_t)ti->size, &bytes))
            return lm_error(LM_ERANGE, "tensor of %d dims with ne[%d] = %lld is too large", ndim, i,
                            (long long)ne[i]);
    return LM_OK;
}

static void set_contiguous(struct lm_tensor *t) {
    const struct lm_dtype_info *ti = lm_dtype_info(t->dtype);
    t->nb[0] = ti->size;
    t->nb[1] = (int64_t)lm_row_size(t->dtype, t->ne[0]);
    for (int i = 2; i < LM_MAX_DIMS; i++)
        t->nb[i] = t->nb[i - 1] * t->ne[i - 1];
}

lm_status lm_tensor_init(struct lm_tensor *t, enum lm_dtype dtype, int ndim, const int64_t *ne,
                         void *data) {
    lm_status s = check_shape(dtype, ndim, ne);
    if (s) return s;
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < LM_MAX_DIMS; i++)
        t->ne[i] = i < ndim ? ne[i] : 1;
    set_contiguous(t);
    t->data = data;
    return LM_OK;
}

struct lm_tensor lm_tensor_3d(enum lm_dtype dtype, int64_t ne0, int64_t ne1, int64_t ne2,
                              void *data) {
    struct lm_tensor t = {.dtype = dtype, .ndim = ne2 > 1 ? 3 : ne1 > 1 ? 2 : 1};
    t.ne[0] = ne0, t.ne[1] = ne1, t.ne[2] = ne2, t.ne[3] = 1;
    set_contiguous(&t);
    t.data = data;
    return t;
}

struct lm_tensor lm_tensor_2d(enum lm_dtype dtype, int64_t ne0, int64_t ne1, void *data) {
    return lm_tensor_3d(dtype, ne0, ne1, 1, data);
}

struct lm_tensor lm_tensor_1d(enum lm_dtype dtype, int64_t ne0, void *data) {
    return lm_tensor_3d(dtype, ne0, 1, 1, data);
}

int64_t lm_tensor_nelem(const struct lm_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

int64_t lm_tensor_nrows(const struct lm_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }

size_t lm_tensor_nbytes(const struct lm_tensor *t) {
    const struct lm_dtype_info *ti = lm_dtype_info(t->dtype);
    size_t n = lm_row_size(t->dtype, t->ne[0]);
    if (t->nb[0] != (int64_t)ti->size) /* strided dim 0: span of its last block */
        n = (size_t)((t->ne[0] / ti->blck - 1) * t->nb[0]) + ti->size;
    for (int i = 1; i < LM_MAX_DIMS; i++)
        n += (size_t)((t->ne[i] - 1) * t->nb[i]);
    return n;
}

bool lm_tensor_is_contiguous(const struct lm_tensor *t) {
    struct lm_tensor c = *t;
    set_contiguous(&c);
    for (int i = 0; i < LM_MAX_DIMS; i++)
        if (t->ne[i] > 1 && c.nb[i] != t->nb[i]) return false;
    return true;
}

bool lm_tensor_same_shape(const struct lm_tensor *a, const struct lm_tensor *b) {
    for (int i = 0; i < LM_MAX_DIMS; i++)
        if (a->ne[i] != b->ne[i]) return false;
    return true;
}

lm_status lm_tensor_slice(struct lm_tensor *dst, const struct lm_tensor *src, int dim,
                          int64_t start, int64_t len) {
    if (dim < 0 || dim >= LM_MAX_DIMS)
        return lm_error(LM_EINVAL, "slice of %s: dim %d out of 0..3",
                        src->name ? src->name : "tensor", dim);
    if (start < 0 || len < 1 || start > src->ne[dim] - len)
        return lm_error(LM_ERANGE, "slice [%lld, %lld) of dim %d exceeds its %lld elements",
                        (long long)start, (long long)(start + len), dim, (long long)src->ne[dim]);
    int64_t blck = lm_dtype_info(src->dtype)->blck;
    if (dim == 0 && (start % blck || len % blck))
        return lm_error(LM_EINVAL, "slice of a %s row must keep whole %lld-blocks",
                        lm_dtype_name(src->dtype), (long long)blck);
    struct lm_tensor t = *src;
    t.data = (char *)src->data + (start / (dim == 0 ? blck : 1)) * src->nb[dim];
    t.ne[dim] = len;
    *dst = t;
    return LM_OK;
}

lm_status lm_tensor_reshape(struct lm_tensor *dst, const struct lm_tensor *src, int ndim,
                            const int64_t *ne) {
    if (!lm_tensor_is_contiguous(src))
        return lm_error(LM_EINVAL, "reshape needs a contiguous tensor");
    lm_status s = check_shape(src->dtype, ndim, ne);
    if (s) return s;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= ne[i];
    if (n != lm_tensor_nelem(src))
        return lm_error(LM_EINVAL, "reshape to %lld elements from %lld", (long long)n,
                        (long long)lm_tensor_nelem(src));
    struct lm_tensor t = *src;
    t.ndim = ndim;
    for (int i = 0; i < LM_MAX_DIMS; i++)
        t.ne[i] = i < ndim ? ne[i] : 1;
    set_contiguous(&t);
    *dst = t;
    return LM_OK;
}

lm_status lm_tensor_transpose(struct lm_tensor *dst, const struct lm_tensor *src, int d0, int d1) {
    if (d0 < 0 || d1 < 0 || d0 >= LM_MAX_DIMS || d1 >= LM_MAX_DIMS)
        return lm_error(LM_EINVAL, "transpose dims %d, %d out of 0..3", d0, d1);
    if ((d0 == 0 || d1 == 0) && d0 != d1 && lm_dtype_info(src->dtype)->blck > 1)
        return lm_error(LM_EINVAL, "cannot transpose dim 0 of a %s tensor",
                        lm_dtype_name(src->dtype));
    struct lm_tensor t = *src;
    t.ne[d0] = src->ne[d1], t.ne[d1] = src->ne[d0];
    t.nb[d0] = src->nb[d1], t.nb[d1] = src->nb[d0];
    if (t.ndim < d0 + 1) t.ndim = d0 + 1;
    if (t.ndim < d1 + 1) t.ndim = d1 + 1;
    *dst = t;
    return LM_OK;
}
