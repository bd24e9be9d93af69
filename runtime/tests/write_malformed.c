/* write_malformed.c - writes every row of the malformed-artifact table (tests/malformed.h) as
 * a file DIR/rowNNN_<what>.kdc: the row's bytes, patched, with the header and body CRCs
 * re-sealed unless the row is about a CRC, truncated as the row says. Rows whose fault is not
 * in the bytes (misaligned buffer, NULL model, arena or destination one byte short, the CRC
 * skipped, kdc_init on a compressed artifact) give files that load. `make verdicts`. */
#include <stdio.h>
#include <string.h>

#include "kdc.h"

#include "golden_models.h"
#include "malformed.h"

static uint32_t buf[70000 / 4];

int main(int argc, char **argv)
{
    size_t i;
    if (argc != 2) {
        fprintf(stderr, "usage: write_malformed DIR\n");
        return 2;
    }
    for (i = 0; i < BAD_ROWS; i++) {
        char path[512], slug[96];
        const char *w = bad_rows[i].what;
        size_t len = row_bytes(&bad_rows[i], (uint8_t *)buf), k = 0;
        FILE *f;
        for (; *w && k < sizeof slug - 1; w++) {
            char c = *w;
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                slug[k++] = c;
            else if (k > 0 && slug[k - 1] != '_')
                slug[k++] = '_';
        }
        while (k > 0 && slug[k - 1] == '_') k--;
        slug[k] = 0;
        sprintf(path, "%.400s/row%03lu_%s.kdc", argv[1], (unsigned long)i, slug);
        if (!(f = fopen(path, "wb")) || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "write_malformed: cannot write %s\n", path);
            return 1;
        }
    }
    printf("write_malformed: %lu rows in %s\n", (unsigned long)BAD_ROWS, argv[1]);
    return 0;
}
