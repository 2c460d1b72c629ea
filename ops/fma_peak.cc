// AncFmaPeak: how many vector multiply-adds one thread of this machine does
// a second, on the run ops' own vector type (Lanes, vector_ops.h): the peak
// that `python -m tf_anc.benchmarks.machine --breakdown` measures the
// steps' arithmetic against, rather than one assumed from the clock (a
// core may start one, two or more a cycle, at a clock that boosts).

#include <chrono>
#include <cstdint>
#include <string>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "vector_ops.h"

namespace tf_anc {
namespace {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;

// Vector multiply-adds a second over `iterations` rounds of twelve
// independent chains: enough to cover a multiply-add's latency (4 cycles)
// on two units, few enough to stay in AVX's 16 vector registers beside the
// two constants. Named values, not an array: GCC keeps an array in memory.
double TimeMultiplyAdds(int64_t iterations) {
  const Lanes scale = Lanes{} + 0.9999999f, shift = Lanes{} + 1e-7f;
  auto step = [&](Lanes& value) {
    value = value * scale + shift;
    KeepInRegister(value);
  };
  Lanes c0 = Lanes{} + 1.0f, c1 = c0 + 1.0f, c2 = c1 + 1.0f, c3 = c2 + 1.0f,
        c4 = c3 + 1.0f, c5 = c4 + 1.0f, c6 = c5 + 1.0f, c7 = c6 + 1.0f,
        c8 = c7 + 1.0f, c9 = c8 + 1.0f, c10 = c9 + 1.0f, c11 = c10 + 1.0f;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t k = 0; k < iterations; ++k) {
    step(c0), step(c1), step(c2), step(c3), step(c4), step(c5);
    step(c6), step(c7), step(c8), step(c9), step(c10), step(c11);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  // Read the chains, so that none is optimised away.
  const Lanes sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 +
                    c11;
  volatile float sink = sum[0];
  (void)sink;
  return iterations * 12.0 / seconds;
}

class AncFmaPeakOp : public OpKernel {
 public:
  explicit AncFmaPeakOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("seconds", &seconds_));
    OP_REQUIRES(context, seconds_ >= 0.0f && seconds_ <= 60.0f,
                absl::InvalidArgumentError(
                    "seconds must be in [0, 60], got " +
                    std::to_string(seconds_)));
  }

  void Compute(OpKernelContext* context) override {
    // The best of windows of about 10 ms: a window in which the thread was
    // descheduled or the clock had not risen yet reads low.
    double best = 0.0;
    int64_t iterations = 1 << 16;
    const auto start = std::chrono::steady_clock::now();
    do {
      const double rate = TimeMultiplyAdds(iterations);
      if (rate > best) best = rate;
      iterations = static_cast<int64_t>(best * 0.01 / 12) + 1;
    } while (std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           start)
                 .count() < seconds_);
    Tensor* rate = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({}),
                                                     &rate));
    rate->scalar<float>()() = static_cast<float>(best);
    Tensor* lanes = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape({}),
                                                     &lanes));
    lanes->scalar<int32_t>()() = kLanes;
  }

 private:
  float seconds_;
};

}  // namespace

REGISTER_OP("AncFmaPeak")
    .Attr("seconds: float = 0.3")
    .Output("multiply_adds_per_second: float")
    .Output("lanes: int32")
    .SetIsStateful()  // a measurement: never folded or reused
    .SetShapeFn([](::tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Scalar());
      c->set_output(1, c->Scalar());
      return absl::OkStatus();
    })
    .Doc(R"doc(
Vector multiply-adds a second on one thread, the run ops' vector type.

Runs independent chains of multiply-adds for `seconds` and returns the best
rate of its windows of about 10 ms, and how many floats the vector holds
(the lanes: 16 with AVX-512, 8 with AVX, else 4).
)doc");

REGISTER_KERNEL_BUILDER(Name("AncFmaPeak").Device(::tensorflow::DEVICE_CPU),
                        AncFmaPeakOp);

}  // namespace tf_anc
