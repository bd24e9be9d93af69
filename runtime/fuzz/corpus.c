/* corpus.c - writes the golden artifacts as seed files into fuzz/corpus/. */
#include <stdio.h>
#include <string.h>

#include "kdc.h"

static int check_bytes(const char *n, const int8_t *g, const int8_t *w, size_t k)
{
    (void)n;
    return memcmp(g, w, k) == 0;
}
#include "golden_models.h"

int main(void)
{
    size_t i;
    (void)check_bytes;
    for (i = 0; i < sizeof golden_models / sizeof golden_models[0]; i++) {
        char path[128];
        FILE *f;
        sprintf(path, "fuzz/corpus/%s.kdc", golden_models[i].name);
        f = fopen(path, "wb");
        if (!f) return 1;
        fwrite(golden_models[i].bytes, 1, golden_models[i].len, f);
        fclose(f);
    }
    return 0;
}
