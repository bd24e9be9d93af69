/* replay.c - a main for the fuzz targets without a fuzzing engine: feeds
 * every file named on the command line to LLVMFuzzerTestOneInput once.
 * Build with any C compiler and -fsanitize=address,undefined (make fuzz-replay). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        uint8_t *buf;
        long n;
        if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 2;
        }
        buf = (uint8_t *)malloc(n ? (size_t)n : 1);
        if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 2;
        }
        fclose(f);
        if (getenv("REPLAY_VERBOSE")) fprintf(stderr, "replay: %s\n", argv[i]);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        free(buf);
    }
    printf("replay: %d inputs, no finding\n", argc - 1);
    return 0;
}
