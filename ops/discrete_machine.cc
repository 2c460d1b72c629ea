// AncDiscreteRun: many programs, each on many inputs, on the discrete
// machine (discrete_machine.h), in one call; and the checks its inputs and
// AncProgramSearch's share.

#include "discrete_machine.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "parallel_for.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tf_anc {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

namespace {

// The first value of `values` outside [lower, upper), or -1 if none.
int64_t FirstOutside(const int32_t* values, int64_t count, int32_t lower,
                     int32_t upper) {
  for (int64_t i = 0; i < count; ++i) {
    if (values[i] < lower || values[i] >= upper) return i;
  }
  return -1;
}

std::string Range(int32_t lower, int32_t upper) {
  return "[" + std::to_string(lower) + ", " + std::to_string(upper) + ")";
}

}  // namespace

absl::Status CheckDiscretePrograms(const Tensor& programs,
                                   const Tensor& registers,
                                   const Tensor& starts, int64_t memory_size) {
  if (programs.dims() != 3 || programs.dim_size(2) != kProgramColumns ||
      registers.dims() != 2 || starts.dims() != 1) {
    return absl::InvalidArgumentError(
        "programs must be [C, M, 4], initial_registers [C, R] and starts "
        "[C], got " + programs.shape().DebugString() + ", " +
        registers.shape().DebugString() + " and " +
        starts.shape().DebugString());
  }
  const int64_t count = programs.dim_size(0);
  if (programs.dim_size(1) != memory_size || registers.dim_size(0) != count ||
      starts.dim_size(0) != count || registers.dim_size(1) == 0) {
    return absl::InvalidArgumentError(
        "programs " + programs.shape().DebugString() + ", initial_registers " +
        registers.shape().DebugString() + " and starts " +
        starts.shape().DebugString() + " must agree on C, with M = " +
        std::to_string(memory_size) + " rows and R > 0");
  }
  const int32_t m = static_cast<int32_t>(memory_size);
  const int32_t r = static_cast<int32_t>(registers.dim_size(1));
  const int32_t* rows = programs.flat<int32_t>().data();
  for (int64_t row = 0; row < count * memory_size; ++row) {
    const int32_t* columns = rows + row * kProgramColumns;
    const int32_t bounds[kProgramColumns][2] = {
        {kPastTheEnd, kNumDiscreteInstructions}, {kNoArgument, r},
        {kNoArgument, r}, {0, r}};
    for (int column = 0; column < kProgramColumns; ++column) {
      if (columns[column] < bounds[column][0] ||
          columns[column] >= bounds[column][1]) {
        return absl::InvalidArgumentError(
            "programs[" + std::to_string(row / memory_size) + ", " +
            std::to_string(row % memory_size) + ", " + std::to_string(column) +
            "] is " + std::to_string(columns[column]) + ", outside " +
            Range(bounds[column][0], bounds[column][1]));
      }
    }
  }
  const int64_t bad_register =
      FirstOutside(registers.flat<int32_t>().data(), count * r, 0, m);
  if (bad_register >= 0) {
    return absl::InvalidArgumentError(
        "initial_registers[" + std::to_string(bad_register / r) + ", " +
        std::to_string(bad_register % r) + "] is outside " + Range(0, m));
  }
  const int64_t bad_start =
      FirstOutside(starts.flat<int32_t>().data(), count, 0, m);
  if (bad_start >= 0) {
    return absl::InvalidArgumentError("starts[" + std::to_string(bad_start) +
                                      "] is outside " + Range(0, m));
  }
  return absl::OkStatus();
}

absl::Status CheckDiscreteMemories(const Tensor& memories, const char* name) {
  if (memories.dims() != 2 || memories.dim_size(1) == 0) {
    return absl::InvalidArgumentError(std::string(name) +
                                      " must be [E, M] with M > 0, got " +
                                      memories.shape().DebugString());
  }
  const int32_t m = static_cast<int32_t>(memories.dim_size(1));
  const int64_t bad =
      FirstOutside(memories.flat<int32_t>().data(), memories.NumElements(),
                   0, m);
  if (bad >= 0) {
    return absl::InvalidArgumentError(
        std::string(name) + "[" + std::to_string(bad / m) + ", " +
        std::to_string(bad % m) + "] is outside " + Range(0, m));
  }
  return absl::OkStatus();
}

REGISTER_OP("AncDiscreteRun")
    .Input("programs: int32")
    .Input("initial_registers: int32")
    .Input("starts: int32")
    .Input("memories: int32")
    .Attr("max_steps: int >= 1")
    .Output("final_memories: int32")
    .Output("final_registers: int32")
    .Output("steps: int32")
    .Output("halted: bool")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle programs, registers, memories;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &programs));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 2, &registers));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 2, &memories));
      const auto candidates = c->Dim(programs, 0);
      const auto examples = c->Dim(memories, 0);
      c->set_output(0, c->MakeShape({candidates, examples,
                                     c->Dim(memories, 1)}));
      c->set_output(1, c->MakeShape({candidates, examples,
                                     c->Dim(registers, 1)}));
      c->set_output(2, c->MakeShape({candidates, examples}));
      c->set_output(3, c->MakeShape({candidates, examples}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Runs each of C programs on each of E memories on the discrete machine.

programs: [C, M, 4] int32 rows (instruction, first argument, second
  argument, output register); instruction -1 past the program's end (the
  machine halts there), an argument -1 where the instruction ignores it.
initial_registers: [C, R], starts: [C] the first line.
memories: [E, M] cells in [0, M).
final_memories: [C, E, M]; final_registers: [C, E, R]; steps: [C, E] the
  instructions executed, the final STOP included; halted: [C, E] false where
  max_steps ran out first.
)doc");

namespace {

class AncDiscreteRunOp : public OpKernel {
 public:
  explicit AncDiscreteRunOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("max_steps", &max_steps_));
  }

  void Compute(OpKernelContext* context) override {
    const Tensor& programs = context->input(0);
    const Tensor& registers = context->input(1);
    const Tensor& starts = context->input(2);
    const Tensor& memories = context->input(3);
    OP_REQUIRES_OK(context, CheckDiscreteMemories(memories, "memories"));
    const int64_t m = memories.dim_size(1);
    OP_REQUIRES_OK(context,
                   CheckDiscretePrograms(programs, registers, starts, m));
    const int64_t candidates = programs.dim_size(0);
    const int64_t examples = memories.dim_size(0);
    const int64_t r = registers.dim_size(1);
    Tensor* final_memories = nullptr;
    Tensor* final_registers = nullptr;
    Tensor* steps = nullptr;
    Tensor* halted = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(
                                0, TensorShape({candidates, examples, m}),
                                &final_memories));
    OP_REQUIRES_OK(context, context->allocate_output(
                                1, TensorShape({candidates, examples, r}),
                                &final_registers));
    OP_REQUIRES_OK(context, context->allocate_output(
                                2, TensorShape({candidates, examples}),
                                &steps));
    OP_REQUIRES_OK(context, context->allocate_output(
                                3, TensorShape({candidates, examples}),
                                &halted));
    const int32_t* rows = programs.flat<int32_t>().data();
    const int32_t* initial = registers.flat<int32_t>().data();
    const int32_t* start = starts.flat<int32_t>().data();
    const int32_t* inputs = memories.flat<int32_t>().data();
    int32_t* memory_out = final_memories->flat<int32_t>().data();
    int32_t* registers_out = final_registers->flat<int32_t>().data();
    int32_t* steps_out = steps->flat<int32_t>().data();
    bool* halted_out = halted->flat<bool>().data();
    const int32_t max_steps = static_cast<int32_t>(max_steps_);
    // Each (program, input) pair is one item: a few cycles per step.
    ParallelFor(context, candidates * examples, 8 * max_steps_,
                [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t candidate = item / examples, example = item % examples;
        int32_t* memory = memory_out + item * m;
        std::copy(inputs + example * m, inputs + (example + 1) * m, memory);
        const DiscreteProgram program = {
            rows + candidate * m * kProgramColumns, initial + candidate * r,
            start[candidate]};
        const DiscreteRun run =
            RunDiscrete(program, static_cast<int32_t>(m),
                        static_cast<int32_t>(r), max_steps, memory,
                        registers_out + item * r);
        steps_out[item] = run.steps;
        halted_out[item] = run.halted;
      }
    });
  }

 private:
  int64_t max_steps_;
};

REGISTER_KERNEL_BUILDER(
    Name("AncDiscreteRun").Device(::tensorflow::DEVICE_CPU),
    AncDiscreteRunOp);

}  // namespace
}  // namespace tf_anc
