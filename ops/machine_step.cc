// One step of the differentiable machine (docs/anc-machine.md) as two fused CPU
// ops: `AncMachineStep` (the forward step) and `AncMachineStepGrad` (its
// hand-derived backward pass). The reference is tf_anc/machine/step.py's
// `machine_step`; the tests hold both to the same values and gradients. The
// arithmetic is step_arithmetic.cc's; the batch is split over TF's CPU
// thread pool.

#include <cstdint>
#include <string>
#include <vector>

#include "parallel_for.h"
#include "step_arithmetic.h"
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

// The step's eight inputs, in op order.
enum Input {
  kMemory, kRegisters, kInstructionRegister, kHalting, kInstructionInput,
  kFirstArgument, kSecondArgument, kOutput, kNumInputs
};
constexpr const char* kInputNames[kNumInputs] = {
    "memory", "registers", "instruction_register", "halting",
    "instruction", "first_argument", "second_argument", "output"};

// ---------------------------------------------------------------------------
// Shapes.

// Checks the eight step inputs against each other; sets batch, M and R.
absl::Status InferStepInputShapes(InferenceContext* c, DimensionHandle* batch,
                                  DimensionHandle* memory_size,
                                  DimensionHandle* num_registers) {
  ShapeHandle memory, registers, instruction_register, halting, instruction;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kMemory), 3, &memory));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kRegisters), 3, &registers));
  TF_RETURN_IF_ERROR(
      c->WithRank(c->input(kInstructionRegister), 2, &instruction_register));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kHalting), 1, &halting));
  TF_RETURN_IF_ERROR(
      c->WithRank(c->input(kInstructionInput), 2, &instruction));
  *batch = c->Dim(memory, 0);
  *memory_size = c->Dim(memory, 1);
  *num_registers = c->Dim(registers, 1);
  TF_RETURN_IF_ERROR(c->Merge(*memory_size, c->Dim(memory, 2), memory_size));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(registers, 0), batch));
  TF_RETURN_IF_ERROR(
      c->Merge(*memory_size, c->Dim(registers, 2), memory_size));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(instruction_register, 0), batch));
  TF_RETURN_IF_ERROR(
      c->Merge(*memory_size, c->Dim(instruction_register, 1), memory_size));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(halting, 0), batch));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(instruction, 0), batch));
  DimensionHandle unused;
  TF_RETURN_IF_ERROR(
      c->WithValue(c->Dim(instruction, 1), kNumInstructions, &unused));
  for (int input : {kFirstArgument, kSecondArgument, kOutput}) {
    ShapeHandle selection;
    TF_RETURN_IF_ERROR(c->WithRank(c->input(input), 2, &selection));
    TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(selection, 0), batch));
    TF_RETURN_IF_ERROR(
        c->Merge(*num_registers, c->Dim(selection, 1), num_registers));
  }
  return absl::OkStatus();
}

// Sets outputs [first, first + 4) to the shapes of the machine state.
void SetStateShapes(InferenceContext* c, int first, DimensionHandle batch,
                    DimensionHandle memory_size,
                    DimensionHandle num_registers) {
  c->set_output(first + 0, c->MakeShape({batch, memory_size, memory_size}));
  c->set_output(first + 1, c->MakeShape({batch, num_registers, memory_size}));
  c->set_output(first + 2, c->MakeShape({batch, memory_size}));
  c->set_output(first + 3, c->MakeShape({batch}));
}

// The input shapes the kernels expect, for batch B, memory M, registers R.
std::vector<TensorShape> StepInputShapes(int64_t batch, int64_t memory_size,
                                         int64_t num_registers) {
  return {TensorShape({batch, memory_size, memory_size}),
          TensorShape({batch, num_registers, memory_size}),
          TensorShape({batch, memory_size}),
          TensorShape({batch}),
          TensorShape({batch, kNumInstructions}),
          TensorShape({batch, num_registers}),
          TensorShape({batch, num_registers}),
          TensorShape({batch, num_registers})};
}

// Validates the eight step inputs at run time (shape functions only see
// static shapes); reads B, M and R from memory and registers.
absl::Status ValidateStepInputs(OpKernelContext* context, int64_t* batch,
                                int64_t* memory_size,
                                int64_t* num_registers) {
  const Tensor& memory = context->input(kMemory);
  const Tensor& registers = context->input(kRegisters);
  if (memory.dims() != 3 || registers.dims() != 3) {
    return absl::InvalidArgumentError(
        "memory and registers must have rank 3, got shapes " +
        memory.shape().DebugString() + " and " +
        registers.shape().DebugString());
  }
  *batch = memory.dim_size(0);
  *memory_size = memory.dim_size(1);
  *num_registers = registers.dim_size(1);
  if (*memory_size == 0) {
    return absl::InvalidArgumentError("memory size M must be positive");
  }
  const std::vector<TensorShape> expected =
      StepInputShapes(*batch, *memory_size, *num_registers);
  for (int input = 0; input < kNumInputs; ++input) {
    if (context->input(input).shape() != expected[input]) {
      return absl::InvalidArgumentError(
          std::string(kInputNames[input]) + " must have shape " +
          expected[input].DebugString() + " (batch " + std::to_string(*batch) +
          ", M " + std::to_string(*memory_size) + ", R " +
          std::to_string(*num_registers) + "), got " +
          context->input(input).shape().DebugString());
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Kernels.

// The eight step inputs as raw float pointers (both kernels read them).
struct StepInputs {
  explicit StepInputs(OpKernelContext* context)
      : memory(Data(context, kMemory)),
        registers(Data(context, kRegisters)),
        instruction_register(Data(context, kInstructionRegister)),
        halting(Data(context, kHalting)),
        instruction(Data(context, kInstructionInput)),
        first(Data(context, kFirstArgument)),
        second(Data(context, kSecondArgument)),
        output(Data(context, kOutput)) {}

  static const float* Data(OpKernelContext* context, int input) {
    return context->input(input).flat<float>().data();
  }

  // Example b's state and command.
  State<float> ExampleState(const Sizes& n, int64_t b) const {
    return {memory + b * n.memory * n.memory,
            registers + b * n.registers * n.memory,
            instruction_register + b * n.memory, halting[b]};
  }
  Command<float> ExampleCommand(const Sizes& n, int64_t b) const {
    return {instruction + b * kNumInstructions, first + b * n.registers,
            second + b * n.registers, output + b * n.registers};
  }

  const float* memory;
  const float* registers;
  const float* instruction_register;
  const float* halting;
  const float* instruction;
  const float* first;
  const float* second;
  const float* output;
};

// Example b's slice of four state-shaped tensors (or their gradients).
MutableState<float> ExampleSlice(const Sizes& n, Tensor* const* tensors,
                                 int64_t b) {
  return {tensors[0]->flat<float>().data() + b * n.memory * n.memory,
          tensors[1]->flat<float>().data() + b * n.registers * n.memory,
          tensors[2]->flat<float>().data() + b * n.memory,
          tensors[3]->flat<float>().data() + b};
}

class AncMachineStepOp : public OpKernel {
 public:
  explicit AncMachineStepOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    int64_t batch, memory_size, num_registers;
    OP_REQUIRES_OK(context, ValidateStepInputs(context, &batch, &memory_size,
                                               &num_registers));
    const std::vector<TensorShape> shapes =
        StepInputShapes(batch, memory_size, num_registers);
    Tensor* outputs[4];
    for (int output = 0; output < 4; ++output) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  output, shapes[output], &outputs[output]));
    }
    const Sizes n{memory_size, num_registers};
    const StepInputs in(context);
    ParallelFor(context, batch, StepCost(n), [&](int64_t begin, int64_t end) {
      StepScratch<float> scratch(n);
      std::vector<float> values(StepValuesSize(n));
      for (int64_t b = begin; b < end; ++b) {
        const State<float> state = in.ExampleState(n, b);
        const Command<float> command = in.ExampleCommand(n, b);
        ComputeStepValues(n, state, command, &scratch,
                          StepValues<float>(n, values.data()));
        ApplyStep(n, state, command, StepValues<const float>(n, values.data()),
                  ExampleSlice(n, outputs, b));
      }
    });
  }
};

// The eight input gradients from the four output gradients; recomputes the
// step's values.
class AncMachineStepGradOp : public OpKernel {
 public:
  explicit AncMachineStepGradOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    int64_t batch, memory_size, num_registers;
    OP_REQUIRES_OK(context, ValidateStepInputs(context, &batch, &memory_size,
                                               &num_registers));
    const std::vector<TensorShape> shapes =
        StepInputShapes(batch, memory_size, num_registers);
    for (int output = 0; output < 4; ++output) {
      const Tensor& gradient = context->input(kNumInputs + output);
      OP_REQUIRES(context, gradient.shape() == shapes[output],
                  absl::InvalidArgumentError(
                      std::string("gradient of ") + kInputNames[output] +
                      " must have shape " + shapes[output].DebugString() +
                      ", got " + gradient.shape().DebugString()));
    }
    Tensor* gradients[kNumInputs];
    for (int input = 0; input < kNumInputs; ++input) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  input, shapes[input], &gradients[input]));
    }
    const Sizes n{memory_size, num_registers};
    const StepInputs in(context);
    const float* grad_next[4];
    for (int output = 0; output < 4; ++output) {
      grad_next[output] =
          context->input(kNumInputs + output).flat<float>().data();
    }
    auto command_gradient = [&](int input, int64_t b, int64_t width) {
      return gradients[input]->flat<float>().data() + b * width;
    };
    ParallelFor(context, batch, StepCost(n), [&](int64_t begin, int64_t end) {
      StepScratch<float> scratch(n);
      std::vector<float> values(StepValuesSize(n));
      for (int64_t b = begin; b < end; ++b) {
        const State<float> state = in.ExampleState(n, b);
        const Command<float> command = in.ExampleCommand(n, b);
        ComputeStepValues(n, state, command, &scratch,
                          StepValues<float>(n, values.data()));
        const State<float> grad_next_state{
            grad_next[0] + b * memory_size * memory_size,
            grad_next[1] + b * num_registers * memory_size,
            grad_next[2] + b * memory_size, grad_next[3][b]};
        StepBackward(
            n, state, command, StepValues<const float>(n, values.data()),
            grad_next_state, &scratch, ExampleSlice(n, gradients, b),
            {command_gradient(kInstructionInput, b, kNumInstructions),
             command_gradient(kFirstArgument, b, num_registers),
             command_gradient(kSecondArgument, b, num_registers),
             command_gradient(kOutput, b, num_registers)});
      }
    });
  }
};

}  // namespace

REGISTER_OP("AncMachineStep")
    .Input("memory: float")
    .Input("registers: float")
    .Input("instruction_register: float")
    .Input("halting: float")
    .Input("instruction: float")
    .Input("first_argument: float")
    .Input("second_argument: float")
    .Input("output: float")
    .Output("next_memory: float")
    .Output("next_registers: float")
    .Output("next_instruction_register: float")
    .Output("next_halting: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, memory_size, num_registers;
      TF_RETURN_IF_ERROR(
          InferStepInputShapes(c, &batch, &memory_size, &num_registers));
      SetStateShapes(c, 0, batch, memory_size, num_registers);
      return absl::OkStatus();
    })
    .Doc(R"doc(
One step of the differentiable machine: tf_anc.machine.step.machine_step.
)doc");

REGISTER_OP("AncMachineStepGrad")
    .Input("memory: float")
    .Input("registers: float")
    .Input("instruction_register: float")
    .Input("halting: float")
    .Input("instruction: float")
    .Input("first_argument: float")
    .Input("second_argument: float")
    .Input("output: float")
    .Input("grad_next_memory: float")
    .Input("grad_next_registers: float")
    .Input("grad_next_instruction_register: float")
    .Input("grad_next_halting: float")
    .Output("grad_memory: float")
    .Output("grad_registers: float")
    .Output("grad_instruction_register: float")
    .Output("grad_halting: float")
    .Output("grad_instruction: float")
    .Output("grad_first_argument: float")
    .Output("grad_second_argument: float")
    .Output("grad_output: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, memory_size, num_registers;
      TF_RETURN_IF_ERROR(
          InferStepInputShapes(c, &batch, &memory_size, &num_registers));
      for (int output = 0; output < kNumInputs; ++output) {
        c->set_output(output, c->input(output));
      }
      for (int output = 0; output < 4; ++output) {
        ShapeHandle unused;
        TF_RETURN_IF_ERROR(c->Merge(c->input(kNumInputs + output),
                                    c->output(output), &unused));
      }
      return absl::OkStatus();
    })
    .Doc(R"doc(
The gradient of AncMachineStep with respect to its eight inputs.
)doc");

REGISTER_KERNEL_BUILDER(
    Name("AncMachineStep").Device(::tensorflow::DEVICE_CPU), AncMachineStepOp);
REGISTER_KERNEL_BUILDER(
    Name("AncMachineStepGrad").Device(::tensorflow::DEVICE_CPU),
    AncMachineStepGradOp);

}  // namespace tf_anc
