/* verdict.c - the C runtime's verdict on artifact files, for differential tests of other
 * readers (the Swift ArtifactReader must reject exactly what this rejects):
 *
 *     tests/verdict FILE...      prints "FILE<TAB>STATUS" per file, STATUS the kdc_status name
 *
 * The verdict is the first status that is not KDC_OK of: kdc_query on the file's bytes; if
 * compressed, kdc_unpack into a buffer of unpack_bytes; kdc_init with the body CRC checked and
 * an arena of arena_needed bytes (asked for by a first kdc_init without arena). So a file
 * that loads gives KDC_OK whatever arena or scratch it needs. Exit status 0, or 2 when a file
 * cannot be read or a buffer cannot be allocated. `make verdicts` builds it. */
#include <stdio.h>
#include <stdlib.h>

#include "kdc.h"
#include "status_names.h"

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = (uint8_t *)malloc(len ? (size_t)len : 1)) != NULL &&
        fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *n = (size_t)len;
    return buf;
}

/* malloc'ed buffers are aligned for any type, so 4-byte aligned as kdc_init needs. */
static int verdict(const uint8_t *a, size_t n, kdc_status *out)
{
    kdc_info info;
    kdc_model m;
    uint8_t *u = NULL, *arena = NULL;
    kdc_status st = kdc_query(a, n, &info);
    if (st == KDC_OK && (info.flags & KDC_FLAG_COMPRESSED)) {
        if (!(u = (uint8_t *)malloc(info.unpack_bytes))) return 0;
        st = kdc_unpack(a, n, u, info.unpack_bytes, &n);
        a = u;
    }
    if (st == KDC_OK) st = kdc_init(&m, a, n, NULL, 0, 0);
    if (st == KDC_ERR_ARENA_TOO_SMALL) {
        if (!(arena = (uint8_t *)malloc(m.arena_needed))) {
            free(u);
            return 0;
        }
        st = kdc_init(&m, a, n, arena, m.arena_needed, 0);
    }
    free(arena);
    free(u);
    *out = st;
    return 1;
}

int main(int argc, char **argv)
{
    int i, rc = 0;
    for (i = 1; i < argc; i++) {
        size_t n = 0;
        uint8_t *a = read_file(argv[i], &n);
        kdc_status st;
        if (!a) {
            fprintf(stderr, "verdict: cannot read %s\n", argv[i]);
            rc = 2;
            continue;
        }
        if (verdict(a, n, &st))
            printf("%s\t%s\n", argv[i], status_names[st]);
        else
            fprintf(stderr, "verdict: %s: out of memory\n", argv[i]), rc = 2;
        free(a);
    }
    return rc;
}
