// AncOneHotCells and AncCheckedCells: a memory's (or a target's) integer
// cell values checked to lie in [0, M), one-hot or as int32. In TensorFlow
// ops the check is about a dozen small ops (the comparison, its reduction,
// and the message naming the first bad cell: argmax, unravel_index, a
// gather, a string format) running beside the machine, whose hand-offs
// between the executor's threads took about 0.1 ms of a 1.1 ms training
// call at the ListK shape; here it is one op, run inline.

#include <algorithm>
#include <cstdint>
#include <string>

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
using ::tensorflow::shape_inference::ShapeHandle;

// OK when every value of `cells` is in [0, memory_size); else the error
// tf_anc.machine.inputs raises, naming the first cell outside (row-major)
// by its index: "memory[2, 4] = 12 is outside [0, 10) (M = 10): ...".
template <typename T>
absl::Status CheckCells(const Tensor& cells, int64_t memory_size,
                        const std::string& what) {
  const auto values = cells.flat<T>();
  for (int64_t i = 0; i < values.size(); ++i) {
    if (values(i) >= 0 && values(i) < memory_size) continue;
    std::string index;
    int64_t rest = i;
    for (int axis = cells.dims() - 1; axis >= 0; --axis) {
      const int64_t size = cells.dim_size(axis);
      index = std::to_string(rest % size) + (index.empty() ? "" : ", ") +
              index;
      rest /= size;
    }
    const std::string range = "[0, " + std::to_string(memory_size) + ")";
    return absl::InvalidArgumentError(
        what + "[" + index + "] = " + std::to_string(values(i)) +
        " is outside " + range + " (M = " + std::to_string(memory_size) +
        "): a cell holds a value in [0, M)");
  }
  return absl::OkStatus();
}

// Checks the cells, then has the subclass write its output from them.
template <typename T>
class CellsOp : public OpKernel {
 public:
  explicit CellsOp(OpKernelConstruction* context) : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("memory_size", &memory_size_));
    OP_REQUIRES_OK(context, context->GetAttr("what", &what_));
  }

  // A batch's cells: run inline by the executor, not handed to another
  // thread.
  bool IsExpensive() override { return false; }

  void Compute(OpKernelContext* context) override {
    const Tensor& cells = context->input(0);
    OP_REQUIRES_OK(context, CheckCells<T>(cells, memory_size_, what_));
    Write(context, cells);
  }

 protected:
  virtual void Write(OpKernelContext* context, const Tensor& cells) = 0;

  int64_t memory_size_;
  std::string what_;
};

template <typename T>
class AncOneHotCellsOp : public CellsOp<T> {
 public:
  using CellsOp<T>::CellsOp;

 private:
  void Write(OpKernelContext* context, const Tensor& cells) override {
    const int64_t memory_size = this->memory_size_;
    TensorShape shape = cells.shape();
    OP_REQUIRES_OK(context, shape.AddDimWithStatus(memory_size));
    Tensor* output = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, shape, &output));
    const auto values = cells.flat<T>();
    float* rows = output->flat<float>().data();
    std::fill_n(rows, output->NumElements(), 0.0f);
    for (int64_t i = 0; i < values.size(); ++i) {
      rows[i * memory_size + values(i)] = 1.0f;
    }
  }
};

template <typename T>
class AncCheckedCellsOp : public CellsOp<T> {
 public:
  using CellsOp<T>::CellsOp;

 private:
  void Write(OpKernelContext* context, const Tensor& cells) override {
    Tensor* output = nullptr;
    OP_REQUIRES_OK(context,
                   context->allocate_output(0, cells.shape(), &output));
    // In [0, M), M an int attribute: every value fits.
    output->flat<int32_t>() = cells.flat<T>().template cast<int32_t>();
  }
};

}  // namespace

REGISTER_OP("AncOneHotCells")
    .Input("cells: T")
    .Output("distributions: float")
    .Attr("T: {int32, int64}")
    .Attr("memory_size: int >= 1")
    .Attr("what: string = 'memory'")
    .SetShapeFn([](InferenceContext* c) {
      int64_t memory_size;
      TF_RETURN_IF_ERROR(c->GetAttr("memory_size", &memory_size));
      ShapeHandle output;
      TF_RETURN_IF_ERROR(c->Concatenate(
          c->input(0), c->Vector(memory_size), &output));
      c->set_output(0, output);
      return absl::OkStatus();
    })
    .Doc(R"doc(
tf.one_hot(cells, memory_size) once every value is in [0, memory_size); else
an InvalidArgumentError naming the first value outside, as `what[i, j]`.
)doc");

REGISTER_OP("AncCheckedCells")
    .Input("cells: T")
    .Output("checked: int32")
    .Attr("T: {int32, int64}")
    .Attr("memory_size: int >= 1")
    .Attr("what: string = 'memory'")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(0));
      return absl::OkStatus();
    })
    .Doc(R"doc(
`cells` as int32 once every value is in [0, memory_size); else an
InvalidArgumentError naming the first value outside, as `what[i, j]`.
)doc");

#define TF_ANC_REGISTER_CELLS(T)                                        \
  REGISTER_KERNEL_BUILDER(Name("AncOneHotCells")                        \
                              .Device(::tensorflow::DEVICE_CPU)         \
                              .TypeConstraint<T>("T"),                  \
                          AncOneHotCellsOp<T>);                         \
  REGISTER_KERNEL_BUILDER(Name("AncCheckedCells")                       \
                              .Device(::tensorflow::DEVICE_CPU)         \
                              .TypeConstraint<T>("T"),                  \
                          AncCheckedCellsOp<T>);
TF_ANC_REGISTER_CELLS(int32_t)
TF_ANC_REGISTER_CELLS(int64_t)
#undef TF_ANC_REGISTER_CELLS

}  // namespace tf_anc
