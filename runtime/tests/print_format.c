/* print_format.c - prints the artifact format constants of src/kdc_format.h and, per op of the
 * op table (src/kdc_ops.h), OPCODE_<NAME>, OPINPUTS_<NAME> and OPPARAMS_<NAME>, as one JSON
 * object of integers. `python3 tests/kdc_format.py --json` prints the Python twin; `make
 * format-check` compares them. */
#include <stdio.h>

#include "kdc_format.h"
#include "kdc_ops.h"

static int first = 1;

static void item(const char *prefix, const char *name, long value)
{
    printf("%s\n \"%s%s\": %ld", first ? "{" : ",", prefix, name, value);
    first = 0;
}

int main(void)
{
#define PRINT_CONSTANT(name, value) item("", #name, (long)(value));
    KDC_FORMAT_CONSTANTS(PRINT_CONSTANT)
#undef PRINT_CONSTANT
#define PRINT_OP(code, name, inputs, params, consts, same_q, kind, macs, kernel)                   \
    item("OPCODE_", #name, code);                                                                  \
    item("OPINPUTS_", #name, inputs);                                                              \
    item("OPPARAMS_", #name, params);
    KDC_OP_TABLE(PRINT_OP)
#undef PRINT_OP
    printf("\n}\n");
    return 0;
}
