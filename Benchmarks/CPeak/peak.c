#include "cpeak.h"

// Twelve independent accumulators: two FMA units with a latency of four cycles need eight in
// flight; twelve leave room on CPUs with longer latencies.
#define ACC 12

// One kernel, compiled for each instruction set: `acc * a + b` in vectors of WIDTH floats (clang
// contracts it to one fused multiply-add where the target has FMA, a multiply and an add where it
// does not). Returns the FLOPs done; the lanes' sum goes to `*sink` so nothing is optimised away.
#define PEAK_KERNEL(NAME, TARGET, WIDTH)                                                    \
    __attribute__((target(TARGET))) static double NAME(int64_t iterations, float *sink) {  \
        typedef float vec __attribute__((vector_size(4 * WIDTH)));                          \
        vec acc[ACC], a, b;                                                                 \
        for (int l = 0; l < WIDTH; l++) { a[l] = 0.999999f; b[l] = 1e-7f; }                 \
        for (int i = 0; i < ACC; i++) acc[i] = a * (float)i * 1e-3f;                        \
        for (int64_t n = 0; n < iterations; n++) {                                          \
            for (int i = 0; i < ACC; i++) acc[i] = acc[i] * a + b;                          \
        }                                                                                   \
        for (int i = 1; i < ACC; i++) acc[0] += acc[i];                                     \
        float total = 0;                                                                    \
        for (int l = 0; l < WIDTH; l++) total += acc[0][l];                                 \
        *sink = total;                                                                      \
        return (double)iterations * ACC * WIDTH * 2;                                        \
    }

PEAK_KERNEL(run_avx512, "avx512f", 16)
PEAK_KERNEL(run_avx2, "avx2,fma", 8)
PEAK_KERNEL(run_sse, "sse2", 4)

typedef enum { SSE, AVX2, AVX512 } isa;

static isa best_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return AVX2;
    return SSE;
}

const char *cpeak_isa(void) {
    static const char *names[] = {"sse", "avx2", "avx512"};
    return names[best_isa()];
}

double cpeak_run(int64_t iterations, float *sink) {
    switch (best_isa()) {
    case AVX512: return run_avx512(iterations, sink);
    case AVX2: return run_avx2(iterations, sink);
    default: return run_sse(iterations, sink);
    }
}
