// OpenBLAS's CBLAS interface; the include path comes from pkg-config `openblas`.
#include <cblas.h>

// OpenBLAS extension: threads used by level-3 routines.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

// glibc's heap settings (mallopt), which the engine's tensor storage tunes beside the BLAS.
#if defined(__GLIBC__)
#include <malloc.h>
#endif
