/* models/convert_quant.c - requantize a GGUF file (`lmrt quantize IN OUT TYPE`).
 *
 * Which tensors change, following llama.cpp's llama-quant.cpp (read for its rules; the code is
 * ours) for the targets lmrt writes:
 *  - Only 2-D+ tensors whose names end in "weight" are candidates; norms ("_norm.weight"),
 *    BERT's position_embd / token_types, lfm2's shortconv.conv and MoE gates keep the type
 *    they have in the input (their bytes are copied), as do 1-D tensors (norms, biases: F32 in
 *    every file seen).
 *  - f32 / f16 / bf16 targets: every candidate becomes that type.
 *  - Quantized targets: output.weight, and token_embd.weight when the model has no
 *    output.weight (tied embeddings), become Q6_K (Q8_0 stays Q8_0; Q8_0 as well when the row
 *    is not a whole number of the target's blocks). q4_k / q5_k are llama.cpp's Q4_K_M / Q5_K_M
 *    mixtures: attn_v and ffn_down of the "more bits" layers (first and last eighth, and every
 *    third one between) become Q6_K.
 *  - Rows that are not whole blocks of the chosen type fall back as llama.cpp does: Q6_K ->
 *    Q8_0; 32-element types -> F16. llama.cpp sends Q4_K to Q5_0 and Q5_K to Q5_1, which lmrt
 *    does not write: those go to Q8_0 instead (more bytes, never less precision), each with a
 *    warning. Then F16 when even that does not fit.
 *  - Tensors are visited and written in llama.cpp's order (by layer number, then name), which
 *    its per-layer counters follow.
 *  - general.file_type is llama.cpp's ftype id; general.quantization_version = 2 (ggml's
 *    GGML_QNT_VERSION); split.no / split.count / split.tensors.count are dropped (a split input
 *    becomes one file).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convert.h"

#define CHUNK_F32_BYTES ((size_t)8 << 20) /* f32 staging per chunk of rows */

int32_t lm_convert_ftype(enum lm_dtype target) {
    switch (target) {
    case LM_F32: return 0;
    case LM_F16: return 1;
    case LM_Q4_0: return 2;
    case LM_Q4_1: return 3;
    case LM_Q8_0: return 7;
    case LM_Q4_K: return 15; /* Q4_K_M */
    case LM_Q5_K: return 17; /* Q5_K_M */
    case LM_Q6_K: return 18;
    case LM_BF16: return 32;
    default: return -1;
    }
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* llama.cpp's tensor_allows_quantization, for the names our architectures use. */
static bool may_quantize(const char *name, int ndim) {
    return ndim >= 2 && ends_with(name, "weight") && !strstr(name, "_norm.weight") &&
           !strstr(name, "ffn_gate_inp.weight") && strcmp(name, "position_embd.weight") &&
           strcmp(name, "token_types.weight") && !strstr(name, "shortconv.conv.weight") &&
           !strstr(name, "ssm_conv1d");
}

static int32_t gguf_id(enum lm_dtype t) { return lm_dtype_info(t)->gguf_type; }

static int64_t blck_of(int32_t ggml_type) {
    const struct gguf_type_info *ti = gguf_type_info(ggml_type);
    return ti ? ti->blck : 1;
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between. */
static bool more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* llama.cpp's tensor order: by layer ("blk.N." prefix; others first), then by name. Its
 * per-layer counters (attn_v, ffn_down) follow this order, and its output is written in it. */
struct ord {
    const char *name;
    long layer;
    int64_t i;
};

static long layer_of(const char *name) {
    if (strncmp(name, "blk.", 4)) return -1;
    char *end;
    long v = strtol(name + 4, &end, 10);
    return end != name + 4 && *end == '.' ? v : -1;
}

static int cmp_ord(const void *pa, const void *pb) {
    const struct ord *a = pa, *b = pb;
    if (a->layer != b->layer) return a->layer < b->layer ? -1 : 1;
    return strcmp(a->name, b->name);
}

lm_status lm_convert_quant_order(const struct lm_gguf *g, int64_t *order) {
    int64_t n = lm_gguf_n_tensors(g);
    struct ord *o = malloc((size_t)(n ? n : 1) * sizeof *o);
    if (!o) return lm_error(LM_ENOMEM, "quantize: ordering %lld tensors", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        struct lm_gguf_tensor_info info;
        lm_gguf_tensor_info(g, i, &info);
        o[i] = (struct ord){info.name, layer_of(info.name), i};
    }
    qsort(o, (size_t)n, sizeof *o, cmp_ord);
    for (int64_t k = 0; k < n; k++)
        order[k] = o[k].i;
    free(o);
    return LM_OK;
}

lm_status lm_convert_quant_plan(const struct lm_gguf *g, enum lm_dtype target, int32_t *types,
                                bool *fallback) {
    int32_t ftype = lm_convert_ftype(target);
    if (!g || !types || ftype < 0)
        return lm_error(LM_EINVAL, "quantize: bad arguments (target %s)", lm_dtype_name(target));
    const struct lm_dtype_info *ti = lm_dtype_info(target);
    int64_t n = lm_gguf_n_tensors(g);
    bool tied = true;
    int n_attn_v = 0, n_ffn_down = 0, i_attn_v = 0, i_ffn_down = 0;
    for (int64_t i = 0; i < n; i++) {
        struct lm_gguf_tensor_info info;
        lm_status s = lm_gguf_tensor_info(g, i, &info);
        if (s) return s;
        if (!strcmp(info.name, "output.weight")) tied = false;
        if (strstr(info.name, "attn_v.weight") || strstr(info.name, "attn_qkv.weight")) n_attn_v++;
        if (strstr(info.name, "ffn_down")) n_ffn_down++;
    }
    /* llama.cpp counts ffn_down layers from the block count */
    const char *arch = NULL;
    if (lm_gguf_get_str(g, "general.architecture", &arch) == LM_OK) {
        char key[96];
        uint32_t bc;
        snprintf(key, sizeof key, "%s.block_count", arch);
        if (lm_gguf_get_u32(g, key, &bc) == LM_OK && bc <= INT32_MAX) n_ffn_down = (int)bc;
    }
    lm_clear_error();
    int64_t n_short = 0, *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order) return lm_error(LM_ENOMEM, "quantize: ordering %lld tensors", (long long)n);
    lm_convert_quant_order(g, order);
    for (int64_t k = 0; k < n; k++) {
        int64_t i = order[k];
        struct lm_gguf_tensor_info info;
        lm_gguf_tensor_info(g, i, &info);
        const char *name = info.name;
        int32_t t = info.ggml_type;
        bool fb = false;
        if (may_quantize(name, info.ndim)) {
            t = ti->gguf_type;
            if (ti->quantized) {
                bool out = !strcmp(name, "output.weight");
                bool embd = !strcmp(name, "token_embd.weight");
                if (out || (tied && embd)) {
                    if (info.ne[0] % ti->blck)
                        t = gguf_id(LM_Q8_0);
                    else if (target != LM_Q8_0)
                        t = gguf_id(LM_Q6_K);
                } else if (strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight")) {
                    if ((target == LM_Q4_K || target == LM_Q5_K) && more_bits(i_attn_v, n_attn_v))
                        t = gguf_id(LM_Q6_K);
                    i_attn_v++;
                } else if (strstr(name, "ffn_down")) {
                    if ((target == LM_Q4_K || target == LM_Q5_K) &&
                        more_bits(i_ffn_down, n_ffn_down))
                        t = gguf_id(LM_Q6_K);
                    i_ffn_down++;
                }
                fb = t != ti->gguf_type;
                /* rows that are not whole blocks */
                if (info.ne[0] % blck_of(t)) {
                    int32_t was = t;
                    if (t == gguf_id(LM_Q4_K) || t == gguf_id(LM_Q5_K) || t == gguf_id(LM_Q6_K))
                        t = gguf_id(LM_Q8_0);
                    if (info.ne[0] % blck_of(t)) t = gguf_id(LM_F16);
                    lm_log(LM_LOG_INFO, "quantize: %s: rows of %lld are not whole %s blocks: %s",
                           name, (long long)info.ne[0], gguf_type_info(was)->name,
                           gguf_type_info(t)->name);
                    fb = true;
                    n_short++;
                }
            }
        }
        types[i] = t;
        if (fallback) fallback[i] = fb;
    }
    free(order);
    if (n_short)
        lm_log(LM_LOG_WARN,
               "quantize: %lld tensors have rows that are not whole blocks of the type planned "
               "for them: stored as q8_0 or f16 instead (LMRT_LOG=info lists them)",
               (long long)n_short);
    return LM_OK;
}

/* ---- streaming conversion ----------------------------------------------------------------- */

lm_status lm_convert_stream(struct lm_gguf_writer *w, const struct lm_tensor *src,
                            enum lm_dtype dst_type, struct lm_ctx *ctx) {
    const char *name = src->name ? src->name : "?";
    int64_t ne0 = src->ne[0], rows = lm_tensor_nrows(src);
    if (!lm_tensor_is_contiguous(src))
        return lm_error(LM_EINVAL, "convert: tensor '%s' is not contiguous", name);
    if (src->dtype == dst_type) return lm_gguf_writer_write(w, src->data, lm_tensor_nbytes(src));
    size_t in_row = lm_row_size(src->dtype, ne0), out_row = lm_row_size(dst_type, ne0);
    if (!in_row || !out_row)
        return lm_error(LM_EINVAL, "convert: tensor '%s': rows of %lld are not whole %s blocks",
                        name, (long long)ne0, lm_dtype_name(out_row ? src->dtype : dst_type));
    int64_t chunk = (int64_t)(CHUNK_F32_BYTES / ((size_t)ne0 * sizeof(float)));
    if (chunk < 1) chunk = 1;
    if (chunk > rows) chunk = rows;
    float *f = src->dtype == LM_F32 ? NULL : lm_aligned_alloc((size_t)(chunk * ne0) * 4);
    void *o = dst_type == LM_F32 ? NULL : lm_aligned_alloc((size_t)chunk * out_row);
    lm_status s = LM_OK;
    if ((src->dtype != LM_F32 && !f) || (dst_type != LM_F32 && !o))
        s = lm_error(LM_ENOMEM, "convert: tensor '%s': no memory for a chunk of %lld rows", name,
                     (long long)chunk);
    for (int64_t r = 0; !s && r < rows; r += chunk) {
        int64_t nr = rows - r < chunk ? rows - r : chunk;
        struct lm_tensor in = lm_tensor_2d(src->dtype, ne0, nr, (char *)src->data + r * in_row);
        struct lm_tensor fv = lm_tensor_2d(LM_F32, ne0, nr, f ? (void *)f : in.data);
        struct lm_tensor ov = lm_tensor_2d(dst_type, ne0, nr, o ? o : (void *)f);
        if (f) s = lm_dequantize(&fv, &in, ctx);
        if (!s && o) s = lm_quantize(&ov, &fv, ctx);
        if (s) {
            lm_error(s, "convert: tensor '%s' (%s -> %s): %s", name, lm_dtype_name(src->dtype),
                     lm_dtype_name(dst_type), lm_last_error());
            break;
        }
        s = lm_gguf_writer_write(w, ov.data, (size_t)nr * out_row);
    }
    lm_aligned_free(f);
    lm_aligned_free(o);
    return s;
}

/* ---- quantize ----------------------------------------------------------------------------- */

static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static bool dropped_key(const char *k) {
    return !strcmp(k, "split.no") || !strcmp(k, "split.count") || !strcmp(k, "split.tensors.count");
}

lm_status lm_convert_quantize(const char *in_path, const char *out_path, enum lm_dtype target,
                              struct lm_ctx *ctx, struct lm_convert_report *rep) {
    if (!in_path || !out_path || !ctx) return lm_error(LM_EINVAL, "quantize: NULL argument");
    int32_t ftype = lm_convert_ftype(target);
    if (ftype < 0)
        return lm_error(LM_EINVAL, "quantize: %s is not a target type", lm_dtype_name(target));
    if (same_file(in_path, out_path))
        return lm_error(LM_EINVAL, "quantize: output %s is the input file", out_path);
    struct lm_convert_report r = {0};
    struct lm_gguf *g = NULL;
    struct lm_gguf_writer *w = NULL;
    int64_t n = 0;
    int32_t *types = NULL;
    int64_t *order = NULL;
    bool *fb = NULL;
    lm_status s = lm_gguf_open(in_path, &g);
    if (s) return s;
    n = lm_gguf_n_tensors(g);
    types = malloc((size_t)(n ? n : 1) * sizeof *types);
    fb = malloc((size_t)(n ? n : 1) * sizeof *fb);
    order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!types || !fb || !order) {
        s = lm_error(LM_ENOMEM, "quantize: no memory for %lld tensor types", (long long)n);
        goto done;
    }
    if ((s = lm_convert_quant_plan(g, target, types, fb)) || (s = lm_convert_quant_order(g, order)))
        goto done;
    /* every tensor that changes type must be readable before anything is written */
    for (int64_t i = 0; i < n; i++) {
        struct lm_gguf_tensor_info info;
        lm_gguf_tensor_info(g, i, &info);
        enum lm_dtype d;
        if (types[i] != info.ggml_type && lm_dtype_from_gguf(info.ggml_type, &d) != LM_OK) {
            s = lm_error(LM_EUNSUPPORTED, "quantize: %s: tensor '%s' is %s, which lmrt cannot read",
                         in_path, info.name, info.type_name);
            goto done;
        }
    }
    if ((s = lm_gguf_writer_open(out_path, &w))) goto done;
    for (int64_t i = 0; !s && i < lm_gguf_n_kv(g); i++)
        if (!dropped_key(lm_gguf_kv_key(g, i))) s = lm_gguf_writer_copy_kv(w, g, i);
    if (!s) s = lm_gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (!s) s = lm_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype);
    for (int64_t k = 0; !s && k < n; k++) { /* in llama.cpp's order */
        int64_t i = order[k];
        struct lm_gguf_tensor_info info;
        lm_gguf_tensor_info(g, i, &info);
        s = lm_gguf_writer_add_tensor(w, info.name, types[i], info.ndim, info.ne);
    }
    if (!s) s = lm_gguf_writer_begin_data(w);
    for (int64_t k = 0; !s && k < n; k++) {
        int64_t i = order[k];
        struct lm_gguf_tensor_info info;
        lm_gguf_tensor_info(g, i, &info);
        r.bytes_in += info.nbytes;
        if (types[i] == info.ggml_type) { /* unchanged: copy, whatever the type */
            s = lm_gguf_writer_write(w, info.data, info.nbytes);
            r.bytes_out += info.nbytes;
            continue;
        }
        struct lm_tensor t;
        enum lm_dtype d;
        if ((s = lm_gguf_tensor(g, i, &t)) || (s = lm_dtype_from_gguf(types[i], &d))) break;
        s = lm_convert_stream(w, &t, d, ctx);
        r.bytes_out += (uint64_t)lm_row_size(d, t.ne[0]) * (uint64_t)lm_tensor_nrows(&t);
        r.n_converted++;
        r.n_fallback += fb[i];
        lm_log(LM_LOG_INFO, "quantize: %-32s %-5s -> %s", info.name, info.type_name,
               gguf_type_info(types[i])->name);
    }
    r.n_tensors = n;
    if (w) {
        if (s) {
            lm_gguf_writer_free(w); /* keeps the first error's message */
        } else {
            s = lm_gguf_writer_finish(w);
        }
        w = NULL;
    }
done:
    free(order);
    free(types);
    free(fb);
    lm_gguf_close(g);
    if (!s && rep) *rep = r;
    return s;
}
