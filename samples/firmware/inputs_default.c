/* inputs_default.c - one all-zero input, used when `make` is given no INPUTS=. */
#include "inputs.h"
#include FW_MODEL_H

#define FW_CAT_(a, b) a##b
#define FW_CAT(a, b) FW_CAT_(a, b)
#define INPUT_BYTES FW_CAT(FW_NAME_UP, _INPUT_BYTES)

const uint32_t fw_input_count = 1;
const uint32_t fw_input_bytes = INPUT_BYTES;
const int8_t fw_inputs[INPUT_BYTES] = {0};
