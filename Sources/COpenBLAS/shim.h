#include <cblas.h>
/* Declared by OpenBLAS (openblas_config.h / cblas.h); repeated here in case the header set lacks
 * them. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
