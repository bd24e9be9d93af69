/* blas_core.c - see kdc_openblas_select_core in kdc_kernels.h. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "kdc_kernels.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__linux__) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <dlfcn.h>

const char *kdc_openblas_select_core(void)
{
    /* Looked up at run time: an OpenBLAS built without DYNAMIC_ARCH has none of these, and then
     * nothing is changed. */
    const char *(*corename)(void) =
        (const char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    void (*quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void (*init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (!corename || !quit || !init || getenv("OPENBLAS_CORETYPE")) return NULL;
    if (strcasecmp(corename(), "prescott") != 0) return NULL;
    const char *core = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
        core = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        core = "Haswell";
    if (!core) return NULL;
    /* gotoblas_dynamic_init reads OPENBLAS_CORETYPE; the variable is removed again so that
     * programs kdc starts do not inherit it. */
    if (setenv("OPENBLAS_CORETYPE", core, 1) != 0) return NULL;
    quit();
    init();
    unsetenv("OPENBLAS_CORETYPE");
    return corename();
}
#else
const char *kdc_openblas_select_core(void) { return NULL; }
#endif
