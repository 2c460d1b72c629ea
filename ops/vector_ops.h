// The two number types the machine's arithmetic runs on: `float` (one
// example) and `Lanes` (kLanes examples side by side, one per SIMD lane),
// loops over arrays of either, written so that the compiler vectorises
// them, and the moves between per-example rows and lanes.

#ifndef TF_ANC_OPS_VECTOR_OPS_H_
#define TF_ANC_OPS_VECTOR_OPS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

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

// Whether V holds a group of examples in lanes (else one example, a float,
// whose loops the compiler vectorises over the values instead).
template <typename V>
constexpr bool kIsLanes = sizeof(V) > sizeof(float);

// y += a x over n values.
template <typename V>
inline void Axpy(int64_t n, const V& a, const V* __restrict x,
                 V* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// sum_i a_i b_i over n values (per lane for Lanes). The sum may be
// reordered: floats vectorise (with -fopenmp-simd), and Lanes keep four
// partial sums, so that the loop is not one chain of dependent
// multiply-adds (each waits for the last one's result, 4 cycles).
template <typename V>
inline V Dot(int64_t n, const V* __restrict a, const V* __restrict b) {
  if constexpr (kIsLanes<V>) {
    V sum0 = {}, sum1 = {}, sum2 = {}, sum3 = {};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      sum0 += a[i] * b[i];
      sum1 += a[i + 1] * b[i + 1];
      sum2 += a[i + 2] * b[i + 2];
      sum3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) sum0 += a[i] * b[i];
    return (sum0 + sum1) + (sum2 + sum3);
  } else {
    V sum = {};
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
    return sum;
  }
}

// Runs block(c, kBlock) over [0, size) in blocks of 8 outputs, then 4,
// then 1, kBlock a std::integral_constant.
template <typename Block>
inline void InBlocks(int64_t size, Block block) {
  int64_t c = 0;
  for (; c + 8 <= size; c += 8) block(c, std::integral_constant<int, 8>());
  for (; c + 4 <= size; c += 4) block(c, std::integral_constant<int, 4>());
  for (; c < size; ++c) block(c, std::integral_constant<int, 1>());
}

// Adds weights[j] table[c + b + j stride] to sum[b] for j in [k, count),
// in j's order, then stores the kBlock outputs: out[c + b] += sum[b], or
// with `assign` out[c + b] = sum[b] (out need not be initialised).
template <int kBlock, typename V, typename T>
inline void FinishDotsBlock(int64_t c, int64_t k, int64_t count,
                            const V* __restrict weights,
                            const T* __restrict table, int64_t stride,
                            bool assign, V* sum, V* __restrict out) {
  for (; k < count; ++k) {
    const V weight = weights[k];
    const T* slice = table + c + k * stride;
#pragma GCC unroll 8
    for (int b = 0; b < kBlock; ++b) sum[b] += weight * slice[b];
  }
#pragma GCC unroll 8
  for (int b = 0; b < kBlock; ++b) {
    out[c + b] = assign ? sum[b] : out[c + b] + sum[b];
  }
}

// out[c] += sum_{k < count} weights[k] table[c + k stride] for c in
// [0, size): a matrix-vector product (stride = the row length), or a
// convolution (stride +-1 over a doubled array: SlidingDots is faster).
// Several outputs at a time, their sums held in registers: the table is
// loaded once per multiply-add and nothing is stored inside the loop, where
// a row-by-row Axpy loads and stores an output at every multiply-add (the
// machine's loops are bound by those loads and stores, not by the
// arithmetic). Each output's sum runs in k's order. With `assign`, out[c]
// = the sum instead (out need not be initialised). T is V, or float: a
// table of values that all lanes share.
template <typename V, typename T>
inline void StridedDots(int64_t size, int64_t count,
                        const V* __restrict weights,
                        const T* __restrict table, int64_t stride,
                        V* __restrict out, bool assign = false) {
  InBlocks(size, [&](int64_t c, auto block) {
    constexpr int kBlock = decltype(block)::value;
    V sum[kBlock] = {};
    FinishDotsBlock<kBlock>(c, 0, count, weights, table, stride, assign, sum,
                            out);
  });
}

// StridedDots with stride kStride = +-1 (a convolution over a doubled
// array): out[c] += sum_k weights[k] table[c + k kStride]. Outputs c and
// c + 1 read the same table entries at neighbouring k, so with kBlock
// outputs and four k at a time the table's kBlock + 3 entries are loaded
// once for 4 kBlock multiply-adds. The same sums, in the same order, as
// StridedDots.
template <int kStride, int kBlock, typename V>
inline void SlidingDotsBlock(int64_t c, int64_t count,
                             const V* __restrict weights,
                             const V* __restrict table, bool assign,
                             V* __restrict out) {
  V sum[kBlock] = {};
  int64_t k = 0;
  for (; k + 4 <= count; k += 4) {
    const V* slice = table + c + k * kStride;
    const V w0 = weights[k], w1 = weights[k + 1], w2 = weights[k + 2],
            w3 = weights[k + 3];
#pragma GCC unroll 8
    for (int b = 0; b < kBlock; ++b) {
      sum[b] += w0 * slice[b];
      sum[b] += w1 * slice[b + kStride];
      sum[b] += w2 * slice[b + 2 * kStride];
      sum[b] += w3 * slice[b + 3 * kStride];
    }
  }
  FinishDotsBlock<kBlock>(c, k, count, weights, table, kStride, assign, sum,
                          out);
}

template <int kStride, typename V>
inline void SlidingDots(int64_t size, int64_t count,
                        const V* __restrict weights,
                        const V* __restrict table, V* __restrict out,
                        bool assign = false) {
  InBlocks(size, [&](int64_t c, auto block) {
    SlidingDotsBlock<kStride, decltype(block)::value>(c, count, weights,
                                                      table, assign, out);
  });
}

// Makes the compiler hold `value` in a register from here on. GCC otherwise
// folds an array element that a loop reads several times into each
// instruction that uses it, loading it again each time, and the machine's
// loops are bound by loads and stores (on AMD's Zen 4, whose load ports
// are 256 bits wide, a 512-bit vector load takes both). A no-op for floats
// and off x86.
template <typename V>
inline void KeepInRegister(V& value) {  // NOLINT
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && \
    defined(__SSE2__)
  if constexpr (kIsLanes<V>) asm("" : "+v"(value));
#else
  (void)value;
#endif
}

// Loads p[i], held in a register (KeepInRegister).
template <typename V>
inline V Load(const V* p, int64_t i) {
  V value = p[i];
  KeepInRegister(value);
  return value;
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

// A float that may alias a vector of floats: the moves below address the
// lanes' values one lane at a time through it. (Setting a lane through a
// vector's subscript makes GCC store the vector and load it back for each
// lane, stalling store forwarding.)
typedef float LaneFloat __attribute__((may_alias));

// values[e][lane] = row[e] for e < size: one lane's example, loaded (as
// floats: Row is float, or an integer type whose values floats hold).
template <typename V, typename Row>
void SetLane(const Row* row, int64_t size, int lane, V* values) {
  constexpr int kWidth = LaneTraits<V>::kWidth;
  LaneFloat* out = reinterpret_cast<LaneFloat*>(values);
  for (int64_t e = 0; e < size; ++e) {
    out[e * kWidth + lane] = static_cast<float>(row[e]);
  }
}

// values[e][lane] += row[e].
template <typename V>
void AddToLane(const float* row, int64_t size, int lane, V* values) {
  constexpr int kWidth = LaneTraits<V>::kWidth;
  LaneFloat* out = reinterpret_cast<LaneFloat*>(values);
  for (int64_t e = 0; e < size; ++e) out[e * kWidth + lane] += row[e];
}

// row[e] = values[e][lane]: one lane's example, stored.
template <typename V>
void GetLane(const V* values, int64_t size, int lane, float* row) {
  constexpr int kWidth = LaneTraits<V>::kWidth;
  const LaneFloat* in = reinterpret_cast<const LaneFloat*>(values);
  for (int64_t e = 0; e < size; ++e) row[e] = in[e * kWidth + lane];
}

// row[e] = values[e][lane], then values[e][lane] = 0: one lane's sums,
// taken out (each value's line is visited once).
template <typename V>
void TakeLane(V* values, int64_t size, int lane, float* row) {
  constexpr int kWidth = LaneTraits<V>::kWidth;
  LaneFloat* in = reinterpret_cast<LaneFloat*>(values);
  for (int64_t e = 0; e < size; ++e) {
    row[e] = in[e * kWidth + lane];
    in[e * kWidth + lane] = 0.0f;
  }
}

// The moves above for several lanes at once, kWidth values at a time: a
// block of kWidth vectors transposed in registers (kWidth log2(kWidth)
// two-vector shuffles), so that each vector is loaded and stored once
// rather than once a lane, and each lane's row is written whole. Lanes
// whose `rows` entry is null are left as they are.
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define TF_ANC_HAVE_SHUFFLEVECTOR 1
#endif
#endif

#ifdef TF_ANC_HAVE_SHUFFLEVECTOR
// Of the rows `low` (whose lane bit kBlock is 0) and `high` = low + kBlock,
// swaps the entries whose lane and row differ in that bit: low's lanes j
// with the bit set take high's j - kBlock, and high's lanes j without it
// take low's j + kBlock. Doing so for every bit transposes the block.
template <int kBlock, int... kLane>
inline void SwapOffDiagonal(Lanes& low, Lanes& high,  // NOLINT
                            std::integer_sequence<int, kLane...>) {
  const Lanes new_low = __builtin_shufflevector(
      low, high, ((kLane & kBlock) ? kLanes + kLane - kBlock : kLane)...);
  high = __builtin_shufflevector(
      low, high, ((kLane & kBlock) ? kLanes + kLane : kLane + kBlock)...);
  low = new_low;
}

template <int kBlock>
inline void TransposeLevel(Lanes* block) {
  if constexpr (kBlock > 0) {
    for (int row = 0; row < kLanes; ++row) {
      if (row & kBlock) continue;
      SwapOffDiagonal<kBlock>(block[row], block[row + kBlock],
                              std::make_integer_sequence<int, kLanes>());
    }
    TransposeLevel<kBlock / 2>(block);
  }
}

// block[e][lane] becomes block[lane][e].
inline void Transpose(Lanes* block) { TransposeLevel<kLanes / 2>(block); }

// All bits set in the lanes that have a row (rows[lane] not null).
template <typename Row>
LaneMask LanesWithRows(Row* const* rows) {
  LaneMask with_rows;
  for (int lane = 0; lane < kLanes; ++lane) {
    with_rows[lane] = rows[lane] != nullptr ? -1 : 0;
  }
  return with_rows;
}
#endif  // TF_ANC_HAVE_SHUFFLEVECTOR

// Whether any of the kWidth lanes has a row: the moves below have nothing
// to do at most vector steps.
template <int kWidth, typename Row>
bool AnyRow(Row* const* rows) {
  return std::any_of(rows, rows + kWidth,
                     [](const Row* row) { return row != nullptr; });
}

// For each lane with rows[lane]: GetLane(values, size, lane, rows[lane]),
// or with kTake TakeLane.
template <bool kTake, typename V>
void MoveOutLanes(std::conditional_t<kTake, V*, const V*> values, int64_t size,
                  float* const* rows) {
  constexpr int kWidth = LaneTraits<V>::kWidth;
  if (!AnyRow<kWidth>(rows)) return;
  int64_t e = 0;
#ifdef TF_ANC_HAVE_SHUFFLEVECTOR
  if constexpr (kIsLanes<V>) {
    const LaneMask taken = LanesWithRows(rows);
    for (; e + kWidth <= size; e += kWidth) {
      V block[kWidth];
      for (int k = 0; k < kWidth; ++k) {
        block[k] = values[e + k];
        if constexpr (kTake) values[e + k] = taken ? V{} : block[k];
      }
      Transpose(block);
      for (int lane = 0; lane < kWidth; ++lane) {
        if (rows[lane] != nullptr) {
          std::memcpy(rows[lane] + e, &block[lane], sizeof(V));
        }
      }
    }
  }
#endif
  for (int lane = 0; lane < kWidth; ++lane) {
    if (rows[lane] == nullptr) continue;
    if constexpr (kTake) {
      TakeLane(values + e, size - e, lane, rows[lane] + e);
    } else {
      GetLane(values + e, size - e, lane, rows[lane] + e);
    }
  }
}

template <typename V>
void GetLanes(const V* values, int64_t size, float* const* rows) {
  MoveOutLanes<false, V>(values, size, rows);
}

template <typename V>
void TakeLanes(V* values, int64_t size, float* const* rows) {
  MoveOutLanes<true, V>(values, size, rows);
}

// For each lane with rows[lane]: SetLane(rows[lane], size, lane, values).
template <typename V>
void SetLanes(const float* const* rows, int64_t size, V* values) {
  constexpr int kWidth = LaneTraits<V>::kWidth;
  if (!AnyRow<kWidth>(rows)) return;
  int64_t e = 0;
#ifdef TF_ANC_HAVE_SHUFFLEVECTOR
  if constexpr (kIsLanes<V>) {
    const LaneMask set = LanesWithRows(rows);
    for (; e + kWidth <= size; e += kWidth) {
      V block[kWidth] = {};
      for (int lane = 0; lane < kWidth; ++lane) {
        if (rows[lane] != nullptr) {
          std::memcpy(&block[lane], rows[lane] + e, sizeof(V));
        }
      }
      Transpose(block);
      for (int k = 0; k < kWidth; ++k) {
        values[e + k] = set ? block[k] : values[e + k];
      }
    }
  }
#endif
  for (int lane = 0; lane < kWidth; ++lane) {
    if (rows[lane] != nullptr) {
      SetLane(rows[lane] + e, size - e, lane, values + e);
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
