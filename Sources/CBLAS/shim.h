// OpenBLAS's CBLAS interface; the include path comes from pkg-config `openblas`.
#include <cblas.h>

// OpenBLAS extension: threads used by level-3 routines.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

// glibc's heap settings (mallopt), which the engine's tensor storage tunes beside the BLAS.
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// OpenBLAS extension: the name of the kernel set chosen for this CPU ("SkylakeX", "Prescott", …).
char *openblas_get_corename(void);
// OpenBLAS extension: version, build options and kernels ("OpenBLAS 0.3.21 DYNAMIC_ARCH … SkylakeX").
char *openblas_get_config(void);
