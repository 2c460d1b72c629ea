// AncRestartIndices: the ANC trainer's training indices
// (tf_anc/training/restart_draws.py), each restart's examples of each step
// drawn by a generator of its own, numpy's
// Generator(PCG64(SeedSequence([seed, restart, step]))).integers(0, size,
// batch_size), bit for bit, without Python: the training pipeline draws
// them in TensorFlow, where numpy's draws held Python's lock beside the
// training loop. What numpy computes is in numpy/random/bit_generator.pyx
// (SeedSequence), src/pcg64 (PCG64) and src/distributions (the bounded
// draw); tests/test_restart_draws.py holds this op to numpy.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tf_anc {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::shape_inference::InferenceContext;

// numpy's SeedSequence with its default pool of four 32-bit words: the
// entropy hashed into the pool, then generate_state(4, np.uint64).
class SeedSequence {
 public:
  explicit SeedSequence(const std::vector<uint32_t>& entropy) {
    for (int i = 0; i < kPoolSize; ++i) {
      pool_[i] = HashMix(i < static_cast<int>(entropy.size()) ? entropy[i] : 0);
    }
    for (int source = 0; source < kPoolSize; ++source) {
      for (int target = 0; target < kPoolSize; ++target) {
        if (source != target) {
          pool_[target] = Mix(pool_[target], HashMix(pool_[source]));
        }
      }
    }
    for (size_t source = kPoolSize; source < entropy.size(); ++source) {
      for (int target = 0; target < kPoolSize; ++target) {
        pool_[target] = Mix(pool_[target], HashMix(entropy[source]));
      }
    }
  }

  // generate_state(4, np.uint64): eight words from the pool, paired little
  // end first.
  std::array<uint64_t, 4> State() const {
    std::array<uint64_t, 4> state;
    uint32_t hash_constant = kInitB;
    for (int word = 0; word < 8; ++word) {
      uint32_t value = pool_[word % kPoolSize] ^ hash_constant;
      hash_constant *= kMultB;
      value *= hash_constant;
      value ^= value >> kShift;
      if (word % 2 == 0) {
        state[word / 2] = value;
      } else {
        state[word / 2] |= static_cast<uint64_t>(value) << 32;
      }
    }
    return state;
  }

 private:
  static constexpr int kPoolSize = 4;
  static constexpr int kShift = 16;
  static constexpr uint32_t kInitA = 0x43b0d7e5, kMultA = 0x931e8875;
  static constexpr uint32_t kInitB = 0x8b51f9dd, kMultB = 0x58f38ded;
  static constexpr uint32_t kMixMultL = 0xca01f9dd, kMixMultR = 0x4973f715;

  uint32_t HashMix(uint32_t value) {
    value ^= hash_constant_;
    hash_constant_ *= kMultA;
    value *= hash_constant_;
    return value ^ (value >> kShift);
  }

  static uint32_t Mix(uint32_t x, uint32_t y) {
    const uint32_t result = kMixMultL * x - kMixMultR * y;
    return result ^ (result >> kShift);
  }

  uint32_t hash_constant_ = kInitA;
  std::array<uint32_t, kPoolSize> pool_;
};

// The words numpy makes of a non-negative integer's entropy: its 32-bit
// digits, least significant first (one word for 0).
void AppendWords(uint64_t value, std::vector<uint32_t>* words) {
  do {
    words->push_back(static_cast<uint32_t>(value));
    value >>= 32;
  } while (value != 0);
}

// numpy's PCG64: a 128-bit LCG whose outputs fold the state's halves and
// rotate them (XSL RR), seeded from a SeedSequence's four words; its 32-bit
// draws are a 64-bit output's low half, then its high half.
class Pcg64 {
 public:
  explicit Pcg64(const std::array<uint64_t, 4>& seed)
      : increment_((Join(seed[2], seed[3]) << 1) | 1) {
    Step();
    state_ += Join(seed[0], seed[1]);
    Step();
  }

  uint32_t Next32() {
    if (has_high_half_) {
      has_high_half_ = false;
      return high_half_;
    }
    const uint64_t next = Next64();
    has_high_half_ = true;
    high_half_ = static_cast<uint32_t>(next >> 32);
    return static_cast<uint32_t>(next);
  }

 private:
  using Uint128 = unsigned __int128;
  static constexpr Uint128 kMultiplier =
      (static_cast<Uint128>(0x2360ed051fc65da4ULL) << 64) |
      0x4385df649fccf645ULL;

  static Uint128 Join(uint64_t high, uint64_t low) {
    return (static_cast<Uint128>(high) << 64) | low;
  }

  void Step() { state_ = state_ * kMultiplier + increment_; }

  uint64_t Next64() {
    Step();
    const uint64_t folded =
        static_cast<uint64_t>(state_ >> 64) ^ static_cast<uint64_t>(state_);
    const int rotation = static_cast<int>(state_ >> 122);
    return (folded >> rotation) | (folded << ((64 - rotation) & 63));
  }

  Uint128 state_ = 0;
  const Uint128 increment_;
  bool has_high_half_ = false;
  uint32_t high_half_ = 0;
};

// Generator.integers(0, largest + 1) as numpy draws it for a range of at
// most 2^32 values: Lemire's multiply-and-reject on 32-bit draws.
uint32_t BoundedDraw(uint32_t largest, Pcg64* generator) {
  if (largest == 0) return 0;  // numpy draws nothing
  if (largest == 0xffffffffu) return generator->Next32();
  const uint32_t range = largest + 1;
  uint64_t product = static_cast<uint64_t>(generator->Next32()) * range;
  uint32_t leftover = static_cast<uint32_t>(product);
  if (leftover < range) {
    const uint32_t threshold = (0xffffffffu - largest) % range;
    while (leftover < threshold) {
      product = static_cast<uint64_t>(generator->Next32()) * range;
      leftover = static_cast<uint32_t>(product);
    }
  }
  return static_cast<uint32_t>(product >> 32);
}

class AncRestartIndicesOp : public OpKernel {
 public:
  explicit AncRestartIndicesOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("seed", &seed_));
    OP_REQUIRES_OK(context, context->GetAttr("restarts", &restarts_));
    OP_REQUIRES_OK(context, context->GetAttr("batch_size", &batch_size_));
    OP_REQUIRES_OK(context, context->GetAttr("size", &size_));
    OP_REQUIRES(context, size_ <= (int64_t{1} << 32),
                absl::InvalidArgumentError(
                    "size must be at most 2^32 (numpy draws larger ranges "
                    "otherwise), got " + std::to_string(size_)));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& first_step = context->input(0);
    const Tensor& num_steps = context->input(1);
    OP_REQUIRES(context, first_step.dims() == 0 && num_steps.dims() == 0,
                absl::InvalidArgumentError(
                    "first_step and num_steps must be scalars"));
    const int64_t first = first_step.scalar<int64_t>()();
    const int64_t count = num_steps.scalar<int64_t>()();
    OP_REQUIRES(context, first >= 0 && count >= 0,
                absl::InvalidArgumentError(
                    "first_step and num_steps must be non-negative, got " +
                    std::to_string(first) + " and " + std::to_string(count)));
    Tensor* output = nullptr;
    OP_REQUIRES_OK(context,
                   context->allocate_output(
                       0, TensorShape({count, restarts_, batch_size_}),
                       &output));
    int64_t* indices = output->flat<int64_t>().data();
    const uint32_t largest = static_cast<uint32_t>(size_ - 1);
    std::vector<uint32_t> entropy;
    for (int64_t step = first; step < first + count; ++step) {
      for (int64_t restart = 0; restart < restarts_; ++restart) {
        entropy.clear();
        AppendWords(static_cast<uint64_t>(seed_), &entropy);
        AppendWords(static_cast<uint64_t>(restart), &entropy);
        AppendWords(static_cast<uint64_t>(step), &entropy);
        Pcg64 generator(SeedSequence(entropy).State());
        for (int64_t i = 0; i < batch_size_; ++i) {
          *indices++ = BoundedDraw(largest, &generator);
        }
      }
    }
  }

 private:
  int64_t seed_;
  int64_t restarts_;
  int64_t batch_size_;
  int64_t size_;
};

}  // namespace

REGISTER_OP("AncRestartIndices")
    .Input("first_step: int64")
    .Input("num_steps: int64")
    .Attr("seed: int >= 0")
    .Attr("restarts: int >= 1")
    .Attr("batch_size: int >= 1")
    .Attr("size: int >= 1")
    .Output("indices: int64")
    .SetShapeFn([](InferenceContext* c) {
      int64_t restarts, batch_size;
      TF_RETURN_IF_ERROR(c->GetAttr("restarts", &restarts));
      TF_RETURN_IF_ERROR(c->GetAttr("batch_size", &batch_size));
      c->set_output(0, c->MakeShape({c->UnknownDim(), restarts, batch_size}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
The indices of steps first_step .. first_step + num_steps - 1's training
examples, [num_steps, restarts, batch_size]: restart k's of step s are
numpy's Generator(PCG64(SeedSequence([seed, k, s]))).integers(0, size,
batch_size), bit for bit. size: the examples drawn from, at most 2^32.
)doc");

REGISTER_KERNEL_BUILDER(
    Name("AncRestartIndices").Device(::tensorflow::DEVICE_CPU),
    AncRestartIndicesOp);

}  // namespace tf_anc
