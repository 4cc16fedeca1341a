// The machine's fp32 FMA peak, measured: a loop of independent fused multiply-adds in the widest
// vectors the CPU has (AVX-512, else AVX2 with FMA, else SSE multiply and add). scripts/bench
// divides each workload's FLOPs by it to say how far tl is from the physical limit.
#ifndef CPEAK_H
#define CPEAK_H
#include <stdint.h>

/// Runs `iterations` rounds of the kernel on the calling thread; returns the FLOPs done (a fused
/// multiply-add counts two). The result depends on the accumulators so no compiler removes it:
/// `*sink` receives their sum.
double cpeak_run(int64_t iterations, float *sink);

/// The instruction set the kernel uses: "avx512", "avx2" or "sse".
const char *cpeak_isa(void);
#endif
