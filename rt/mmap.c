/* rt/mmap.c - read-only mapping of model files.
 *
 * Weights are used in place from the mapping (zero-copy); the file descriptor is closed once
 * mapped. An empty file maps to a NULL pointer of size 0, which parsers reject by size.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmrt.h"

lm_status lm_file_map(const char *path, struct lm_mapped_file *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lm_error(LM_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return lm_error(LM_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lm_error(LM_EIO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return LM_OK;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return lm_error(LM_EIO, "%s: cannot map: %s", path, strerror(e));
    out->data = p;
    out->size = (size_t)st.st_size;
    return LM_OK;
}

void lm_file_unmap(struct lm_mapped_file *f) {
    if (!f) return;
    if (f->data) munmap((void *)f->data, f->size);
    memset(f, 0, sizeof *f);
}
