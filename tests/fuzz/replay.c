/* tests/fuzz/replay.c - runs a libFuzzer target's LLVMFuzzerTestOneInput over files, with the
 * normal compiler and no libFuzzer: `ninja test` replays every tests/fuzz/corpus/<name>/ input
 * (seeds and every crasher ever found) through build/tests/replay_<name>, so a fixed crash
 * stays fixed in every build, sanitizer builds included.
 *
 * usage: replay_<name> FILE...   exit 0 when every input ran, 1 if one could not be read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
    int n = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[i]);
            return 1;
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, got;
        do {
            if (len == cap) {
                cap = cap ? 2 * cap : 4096;
                uint8_t *nb = realloc(buf, cap);
                if (!nb) {
                    fprintf(stderr, "%s: out of memory reading %s\n", argv[0], argv[i]);
                    return 1;
                }
                buf = nb;
            }
            got = fread(buf + len, 1, cap - len, f);
            len += got;
        } while (got);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len); /* the target copies to an exact-size buffer */
        free(buf);
        n++;
    }
    printf("%s: %d inputs ran clean\n", argv[0], n);
    return 0;
}
