// AncRestartSoftmax and its gradient: the fused machine's initial registers
// and instruction register, each restart's logits turned into distributions
// (a softmax over the last axis) and repeated for each of its examples. In
// TensorFlow ops that is about 20 small ops forward and 25 backward, whose
// dispatch took about 0.1 ms of a 1.2 ms call at the ListK shape (batch 32,
// 75 steps, forward and backward); here it is one op each way.

#include <algorithm>
#include <cmath>
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
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

// softmax(x) over n values, as exp(x - logsumexp(x)) with the logsumexp
// shifted by the largest value (by 0 if that is not finite), the way
// tf.reduce_logsumexp computes it.
void Softmax(int64_t n, const float* x, float* values) {
  float largest = *std::max_element(x, x + n);
  if (!std::isfinite(largest)) largest = 0.0f;
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum += std::exp(x[j] - largest);
  const float log_sum = std::log(sum) + largest;
  for (int64_t j = 0; j < n; ++j) values[j] = std::exp(x[j] - log_sum);
}

// Restarts K (the first axis), distributions per restart (the axes between)
// and their size N (the last axis) of `logits`.
struct SoftmaxSizes {
  explicit SoftmaxSizes(const TensorShape& logits)
      : restarts(logits.dim_size(0)),
        size(logits.dim_size(logits.dims() - 1)),
        rows(logits.num_elements() / std::max<int64_t>(1, restarts * size)) {}
  int64_t restarts, size, rows;
};

absl::Status CheckLogits(const Tensor& logits) {
  if (logits.dims() < 2) {
    return absl::InvalidArgumentError(
        "AncRestartSoftmax: logits must be [K, ..., N], got shape " +
        logits.shape().DebugString());
  }
  return absl::OkStatus();
}

class AncRestartSoftmaxOp : public OpKernel {
 public:
  explicit AncRestartSoftmaxOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  // A few hundred values: run inline by the executor, not handed to
  // another thread.
  bool IsExpensive() override { return false; }

  void Compute(OpKernelContext* context) override {
    const Tensor& logits = context->input(0);
    const Tensor& examples = context->input(1);
    OP_REQUIRES_OK(context, CheckLogits(logits));
    OP_REQUIRES(context,
                ::tensorflow::TensorShapeUtils::IsScalar(examples.shape()),
                absl::InvalidArgumentError(
                    "AncRestartSoftmax: examples_per_restart must be a "
                    "scalar"));
    const int64_t examples_per_restart = examples.scalar<int32_t>()();
    OP_REQUIRES(context, examples_per_restart >= 0,
                absl::InvalidArgumentError(
                    "AncRestartSoftmax: examples_per_restart must be >= 0, "
                    "got " + std::to_string(examples_per_restart)));
    const SoftmaxSizes n(logits.shape());
    TensorShape shape = logits.shape();
    shape.set_dim(0, n.restarts * examples_per_restart);
    Tensor* output = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, shape, &output));
    const int64_t per_restart = n.rows * n.size;
    std::vector<float> values(per_restart);
    const float* x = logits.flat<float>().data();
    float* out = output->flat<float>().data();
    for (int64_t k = 0; k < n.restarts; ++k) {
      for (int64_t row = 0; row < n.rows; ++row) {
        Softmax(n.size, x + k * per_restart + row * n.size,
                values.data() + row * n.size);
      }
      for (int64_t e = 0; e < examples_per_restart; ++e) {
        std::copy(values.begin(), values.end(),
                  out + (k * examples_per_restart + e) * per_restart);
      }
    }
  }
};

// The logits' gradient: the examples' gradients summed per restart, G, then
// through v = softmax(x), grad_x = v G - v <v, G>.
class AncRestartSoftmaxGradOp : public OpKernel {
 public:
  explicit AncRestartSoftmaxGradOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  bool IsExpensive() override { return false; }

  void Compute(OpKernelContext* context) override {
    const Tensor& logits = context->input(0);
    const Tensor& gradient = context->input(1);
    OP_REQUIRES_OK(context, CheckLogits(logits));
    const SoftmaxSizes n(logits.shape());
    bool fits = gradient.dims() == logits.dims() && n.restarts > 0 &&
                gradient.dim_size(0) % n.restarts == 0;
    for (int axis = 1; fits && axis < logits.dims(); ++axis) {
      fits = gradient.dim_size(axis) == logits.dim_size(axis);
    }
    OP_REQUIRES(context, fits || (n.restarts == 0 &&
                                  gradient.NumElements() == 0),
                absl::InvalidArgumentError(
                    "AncRestartSoftmaxGrad: the gradient's shape " +
                    gradient.shape().DebugString() +
                    " is not [K * E, ...] for logits of shape " +
                    logits.shape().DebugString()));
    Tensor* output = nullptr;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, logits.shape(), &output));
    if (n.restarts == 0) return;
    const int64_t examples_per_restart = gradient.dim_size(0) / n.restarts;
    const int64_t per_restart = n.rows * n.size;
    std::vector<float> values(n.size), summed(per_restart);
    const float* x = logits.flat<float>().data();
    const float* g = gradient.flat<float>().data();
    float* out = output->flat<float>().data();
    for (int64_t k = 0; k < n.restarts; ++k) {
      std::fill(summed.begin(), summed.end(), 0.0f);
      for (int64_t e = 0; e < examples_per_restart; ++e) {
        const float* example =
            g + (k * examples_per_restart + e) * per_restart;
        for (int64_t i = 0; i < per_restart; ++i) summed[i] += example[i];
      }
      for (int64_t row = 0; row < n.rows; ++row) {
        const int64_t offset = k * per_restart + row * n.size;
        const float* sum = summed.data() + row * n.size;
        Softmax(n.size, x + offset, values.data());
        float dot = 0.0f;
        for (int64_t j = 0; j < n.size; ++j) dot += values[j] * sum[j];
        for (int64_t j = 0; j < n.size; ++j) {
          out[offset + j] = values[j] * sum[j] - values[j] * dot;
        }
      }
    }
  }
};

}  // namespace

REGISTER_OP("AncRestartSoftmax")
    .Input("logits: float")
    .Input("examples_per_restart: int32")
    .Output("values: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle logits, unused;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 2, &logits));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 0, &unused));
      DimensionHandle examples = c->UnknownDim();
      if (const Tensor* known = c->input_tensor(1); known != nullptr) {
        const int32_t count = known->scalar<int32_t>()();
        if (count < 0) {
          return absl::InvalidArgumentError(
              "AncRestartSoftmax: examples_per_restart must be >= 0, got " +
              std::to_string(count));
        }
        examples = c->MakeDim(count);
      }
      DimensionHandle batch;
      TF_RETURN_IF_ERROR(c->Multiply(c->Dim(logits, 0), examples, &batch));
      ShapeHandle output;
      TF_RETURN_IF_ERROR(c->ReplaceDim(logits, 0, batch, &output));
      c->set_output(0, output);
      return absl::OkStatus();
    })
    .Doc(R"doc(
Each restart's distributions, repeated for each of its examples:
values[k * E + e] = softmax(logits[k]) over the last axis, for logits
[K, ..., N] and E = examples_per_restart; values is [K * E, ..., N].
)doc");

REGISTER_OP("AncRestartSoftmaxGrad")
    .Input("logits: float")
    .Input("gradient: float")
    .Output("logits_gradient: float")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(0));
      return absl::OkStatus();
    })
    .Doc(R"doc(
The gradient of AncRestartSoftmax's logits, given its values' gradient
[K * E, ..., N].
)doc");

REGISTER_KERNEL_BUILDER(
    Name("AncRestartSoftmax").Device(::tensorflow::DEVICE_CPU),
    AncRestartSoftmaxOp);
REGISTER_KERNEL_BUILDER(
    Name("AncRestartSoftmaxGrad").Device(::tensorflow::DEVICE_CPU),
    AncRestartSoftmaxGradOp);

}  // namespace tf_anc
