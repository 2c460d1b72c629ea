// The two number types the machine's arithmetic runs on: `float` (one
// example) and `Lanes` (kLanes examples side by side, one per SIMD lane),
// loops over arrays of either, written so that the compiler vectorises
// them, and the moves between per-example rows and lanes.

#ifndef TF_ANC_OPS_VECTOR_OPS_H_
#define TF_ANC_OPS_VECTOR_OPS_H_

#include <cmath>
#include <cstdint>
#include <vector>

namespace tf_anc {

// kLanes examples' values of one quantity, one example per lane: every
// operation acts on each lane alone (GCC/Clang vector extensions). One
// vector register's worth: 16 floats with AVX-512, 8 with AVX, else 4 (SSE,
// NEON).
#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));
// A per-lane condition: all bits set where true.
typedef int32_t LaneMask __attribute__((vector_size(kLanes * sizeof(float))));
// Lets `#pragma omp simd reduction(+ : sum)` sum Lanes too.
#pragma omp declare reduction(+ : Lanes : omp_out += omp_in) \
    initializer(omp_priv = Lanes{})

// y += a x over n values.
template <typename V>
inline void Axpy(int64_t n, const V& a, const V* __restrict x,
                 V* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// sum_i a_i b_i over n values (per lane for Lanes). The sum may be
// reordered so that floats vectorise too (with -fopenmp-simd).
template <typename V>
inline V Dot(int64_t n, const V* __restrict a, const V* __restrict b) {
  V sum = {};
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// out[c] += sum_{k < count} weights[k] table[c + k stride] for c in
// [0, size): a matrix-vector product (stride = the row length), or a
// convolution (stride +-1 over a doubled array). Four outputs at a time,
// their sums held in registers: the table is loaded once per multiply-add
// and nothing is stored inside the loop, where a row-by-row Axpy loads and
// stores an output at every multiply-add (the machine's loops are bound by
// those loads and stores, not by the arithmetic).
template <typename V>
inline void StridedDots(int64_t size, int64_t count,
                        const V* __restrict weights,
                        const V* __restrict table, int64_t stride,
                        V* __restrict out) {
  constexpr int kBlock = 4;
  int64_t c = 0;
  for (; c + kBlock <= size; c += kBlock) {
    V sum[kBlock] = {};
    for (int64_t k = 0; k < count; ++k) {
      const V weight = weights[k];
      const V* slice = table + c + k * stride;
#pragma GCC unroll 4
      for (int b = 0; b < kBlock; ++b) sum[b] += weight * slice[b];
    }
#pragma GCC unroll 4
    for (int b = 0; b < kBlock; ++b) out[c + b] += sum[b];
  }
  for (; c < size; ++c) {
    V sum = {};
    for (int64_t k = 0; k < count; ++k) {
      sum += weights[k] * table[c + k * stride];
    }
    out[c] += sum;
  }
}

// Per-lane access for V = Lanes and V = float (one lane), so that code runs
// either kLanes examples at a time or one.
template <typename V>
struct LaneTraits;

template <>
struct LaneTraits<Lanes> {
  using Mask = LaneMask;
  static constexpr int kWidth = kLanes;
  static float Get(const Lanes& values, int lane) { return values[lane]; }
  static void Set(Lanes& values, int lane, float value) {  // NOLINT
    values[lane] = value;
  }
  static int32_t Get(const LaneMask& mask, int lane) { return mask[lane]; }
  static void Set(LaneMask& mask, int lane, int32_t value) {  // NOLINT
    mask[lane] = value;
  }
  static LaneMask Less(const Lanes& a, const Lanes& b) { return a < b; }
};

template <>
struct LaneTraits<float> {
  using Mask = int32_t;
  static constexpr int kWidth = 1;
  static float Get(float value, int) { return value; }
  static void Set(float& values, int, float value) {  // NOLINT
    values = value;
  }
  static int32_t Get(int32_t mask, int) { return mask; }
  static void Set(int32_t& mask, int, int32_t value) {  // NOLINT
    mask = value;
  }
  static int32_t Less(float a, float b) { return a < b ? -1 : 0; }
};

// A condition per lane: all bits set where true, as comparisons give.
template <typename V>
using Mask = typename LaneTraits<V>::Mask;

// values[e][lane] = rows[lane][e] for e < size (0 in the lanes beyond
// rows).
template <typename V>
void Gather(const std::vector<const float*>& rows, int64_t size, V* values) {
  for (int64_t e = 0; e < size; ++e) {
    V lanes = {};
    for (size_t lane = 0; lane < rows.size(); ++lane) {
      LaneTraits<V>::Set(lanes, lane, rows[lane][e]);
    }
    values[e] = lanes;
  }
}

// values[e][lane] += rows[lane][e].
template <typename V>
void AddGathered(const std::vector<const float*>& rows, int64_t size,
                 V* values) {
  for (int64_t e = 0; e < size; ++e) {
    for (size_t lane = 0; lane < rows.size(); ++lane) {
      LaneTraits<V>::Set(values[e], lane,
                         LaneTraits<V>::Get(values[e], lane) + rows[lane][e]);
    }
  }
}

// rows[lane][e] = values[e][lane] for the lanes that have a row.
template <typename V>
void Scatter(const V* values, int64_t size, const std::vector<float*>& rows) {
  for (int64_t e = 0; e < size; ++e) {
    for (size_t lane = 0; lane < rows.size(); ++lane) {
      rows[lane][e] = LaneTraits<V>::Get(values[e], lane);
    }
  }
}

// Where `mask` is false, values[e] = otherwise[e].
template <typename V>
void KeepWhere(const Mask<V>& mask, int64_t size, const V* otherwise,
               V* values) {
  for (int64_t e = 0; e < size; ++e) {
    values[e] = mask ? values[e] : otherwise[e];
  }
}

template <typename V>
bool AnyLane(const Mask<V>& mask) {
  for (int lane = 0; lane < LaneTraits<V>::kWidth; ++lane) {
    if (LaneTraits<V>::Get(mask, lane)) return true;
  }
  return false;
}

template <typename V>
bool AllLanes(const Mask<V>& mask) {
  for (int lane = 0; lane < LaneTraits<V>::kWidth; ++lane) {
    if (!LaneTraits<V>::Get(mask, lane)) return false;
  }
  return true;
}

inline float Max(float a, float b) { return a > b ? a : b; }

inline Lanes Max(const Lanes& a, const Lanes& b) { return a > b ? a : b; }

// 1 / x, and 0 for x = 0 (as tf.math.divide_no_nan), per lane.
inline float InverseOrZero(float x) { return x != 0.0f ? 1.0f / x : 0.0f; }

inline Lanes InverseOrZero(const Lanes& x) {
  const Lanes zero = {};
  return x != zero ? 1.0f / x : zero;
}

// ln FLT_MIN: e^x is denormal below it, and TF's kernels flush denormals to
// zero.
constexpr float kLogSmallestNormal = -87.336544f;

inline float Exp(float x) {
  return x < kLogSmallestNormal ? 0.0f : std::exp(x);
}

// e^x per lane, within 2 ulp of std::exp for x in [ln FLT_MIN, 88]; 0 below
// (as Exp(float)), e^88 above, NaN for NaN. Cephes' expf: e^x = 2^k e^r,
// |r| <= ln(2) / 2, with e^r as a polynomial (std::exp one lane at a time
// costs more than a step's arithmetic).
inline Lanes Exp(const Lanes& x) {
  const Lanes high = Lanes{} + 88.0f;
  const Lanes low = Lanes{} + kLogSmallestNormal;
  Lanes clamped = x > high ? high : x;
  clamped = clamped < low ? low : clamped;
  // k = round(x / ln 2), then r = x - k ln 2 in two parts for precision.
  const Lanes scaled = clamped * 1.44269504088896341f + 0.5f;
  Lanes k = __builtin_convertvector(__builtin_convertvector(scaled, LaneMask),
                                    Lanes);
  k = k > scaled ? k - 1.0f : k;  // floor, as the conversion truncates
  const Lanes r = clamped - k * 0.693359375f + k * 2.12194440e-4f;
  Lanes p = Lanes{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const Lanes e_r = p * r * r + r + 1.0f;
  // 2^k: k + 127 in the exponent bits.
  const LaneMask exponent = (__builtin_convertvector(k, LaneMask) + 127) << 23;
  const Lanes e_x = e_r * reinterpret_cast<const Lanes&>(exponent);
  return x < low ? Lanes{} : e_x;
}

}  // namespace tf_anc

#endif  // TF_ANC_OPS_VECTOR_OPS_H_
