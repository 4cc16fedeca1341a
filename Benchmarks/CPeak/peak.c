#include "cpeak.h"
#include <immintrin.h>

// Twelve independent accumulators: two FMA units with a latency of four cycles need eight in
// flight; twelve leave room on CPUs with longer latencies.
#define ACC 12

__attribute__((target("avx512f")))
static double run_avx512(int64_t iterations, float *sink) {
    __m512 acc[ACC];
    for (int i = 0; i < ACC; i++) acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < ACC; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 s = acc[0];
    for (int i = 1; i < ACC; i++) s = _mm512_add_ps(s, acc[i]);
    *sink = _mm512_reduce_add_ps(s);
    return (double)iterations * ACC * 16 * 2;
}

__attribute__((target("avx2,fma")))
static double run_avx2(int64_t iterations, float *sink) {
    __m256 acc[ACC];
    for (int i = 0; i < ACC; i++) acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < ACC; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    __m256 s = acc[0];
    for (int i = 1; i < ACC; i++) s = _mm256_add_ps(s, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    float total = 0;
    for (int i = 0; i < 8; i++) total += lanes[i];
    *sink = total;
    return (double)iterations * ACC * 8 * 2;
}

static double run_sse(int64_t iterations, float *sink) {
    __m128 acc[ACC];
    for (int i = 0; i < ACC; i++) acc[i] = _mm_set1_ps((float)i * 1e-3f);
    const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-7f);
    for (int64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < ACC; i++) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], a), b);
    }
    __m128 s = acc[0];
    for (int i = 1; i < ACC; i++) s = _mm_add_ps(s, acc[i]);
    float lanes[4];
    _mm_storeu_ps(lanes, s);
    *sink = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    return (double)iterations * ACC * 4 * 2;
}

const char *cpeak_isa(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
    return "sse";
}

double cpeak_run(int64_t iterations, float *sink) {
    const char *isa = cpeak_isa();
    if (isa[0] == 'a' && isa[3] == '5') return run_avx512(iterations, sink);
    if (isa[0] == 'a') return run_avx2(iterations, sink);
    return run_sse(iterations, sink);
}
