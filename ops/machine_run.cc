// The run ops' definitions: AncMachineRun and AncMachineRunGrad's
// registrations and shape functions, and the kernels' run-time checks of
// the same shapes (shape functions only see static shapes). What the ops
// compute: machine_run.h; their kernels: machine_run_forward.cc and
// machine_run_gradient.cc.

#include <cstdint>
#include <string>
#include <vector>

#include "machine_run.h"
#include "step_arithmetic.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tf_anc {

using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

namespace {

constexpr const char* kInputNames[kNumRunInputs] = {
    "memory", "registers", "instruction_register", "halting",
    "instruction_logits", "first_argument_logits", "second_argument_logits",
    "output_logits", "error_target", "error_mask"};

// Checks the eight run inputs against each other; sets B, M and R.
absl::Status InferRunInputShapes(InferenceContext* c, DimensionHandle* batch,
                                 DimensionHandle* memory_size,
                                 DimensionHandle* num_registers) {
  ShapeHandle memory, registers, instruction_register, halting;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kMemory), 3, &memory));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kRegisters), 3, &registers));
  TF_RETURN_IF_ERROR(
      c->WithRank(c->input(kInstructionRegister), 2, &instruction_register));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kHalting), 1, &halting));
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
  DimensionHandle restarts = c->UnknownDim();
  for (int input = kInstructionLogits; input < kNumInputs; ++input) {
    ShapeHandle logits;
    TF_RETURN_IF_ERROR(c->WithRank(c->input(input), 3, &logits));
    TF_RETURN_IF_ERROR(c->Merge(restarts, c->Dim(logits, 0), &restarts));
    TF_RETURN_IF_ERROR(c->Merge(*memory_size, c->Dim(logits, 1), memory_size));
    if (input == kInstructionLogits) {
      DimensionHandle unused;
      TF_RETURN_IF_ERROR(
          c->WithValue(c->Dim(logits, 2), kNumInstructions, &unused));
    } else {
      TF_RETURN_IF_ERROR(
          c->Merge(*num_registers, c->Dim(logits, 2), num_registers));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<TensorShape> RunInputShapes(const RunSizes& n) {
  const int64_t m = n.step.memory, r = n.step.registers;
  return {TensorShape({n.batch, m, m}),
          TensorShape({n.batch, r, m}),
          TensorShape({n.batch, m}),
          TensorShape({n.batch}),
          TensorShape({n.restarts, m, kNumInstructions}),
          TensorShape({n.restarts, m, r}),
          TensorShape({n.restarts, m, r}),
          TensorShape({n.restarts, m, r}),
          TensorShape({n.batch, m}),
          TensorShape({n.batch, m})};
}

std::vector<TensorShape> RunOutputShapes(const RunSizes& n, bool trace_memory,
                                         bool trace_errors,
                                         bool halting_mixture) {
  const int64_t m = n.step.memory, r = n.step.registers;
  return {TensorShape({n.batch, m, m}),
          TensorShape({n.batch, r, m}),
          TensorShape({n.batch, n.steps}),
          TensorShape({n.batch, n.steps}),
          TensorShape({n.batch}),
          TensorShape({n.batch, trace_memory ? n.steps : 0, m, m}),
          TensorShape({n.batch, trace_errors ? n.steps : 0}),
          TensorShape({n.streams, n.saved_stream, n.width}),
          TensorShape({halting_mixture ? n.batch : 0, m, m})};
}

absl::Status ValidateRunInputs(OpKernelContext* context, int64_t steps,
                               bool trace_errors, RunSizes* sizes) {
  const Tensor& memory = context->input(kMemory);
  const Tensor& registers = context->input(kRegisters);
  const Tensor& instruction_logits = context->input(kInstructionLogits);
  if (memory.dims() != 3 || registers.dims() != 3 ||
      instruction_logits.dims() != 3) {
    return absl::InvalidArgumentError(
        "memory, registers and instruction_logits must have rank 3, got "
        "shapes " + memory.shape().DebugString() + ", " +
        registers.shape().DebugString() + " and " +
        instruction_logits.shape().DebugString());
  }
  *sizes = RunSizes(memory.dim_size(0), instruction_logits.dim_size(0), steps,
                    {memory.dim_size(1), registers.dim_size(1)});
  if (sizes->step.memory == 0) {
    return absl::InvalidArgumentError("memory size M must be positive");
  }
  if (sizes->restarts == 0 || sizes->batch % sizes->restarts != 0) {
    return absl::InvalidArgumentError(
        "the batch (" + std::to_string(sizes->batch) + " examples) must be " +
        "a multiple of the number of restarts K (" +
        std::to_string(sizes->restarts) + ", instruction_logits' first "
        "dimension), and K positive");
  }
  const std::vector<TensorShape> expected = RunInputShapes(*sizes);
  for (int input = 0; input < (trace_errors ? kNumRunInputs : kNumInputs);
       ++input) {
    if (context->input(input).shape() != expected[input]) {
      return absl::InvalidArgumentError(
          std::string(kInputNames[input]) + " must have shape " +
          expected[input].DebugString() + " (batch " +
          std::to_string(sizes->batch) + ", K " +
          std::to_string(sizes->restarts) + ", M " +
          std::to_string(sizes->step.memory) + ", R " +
          std::to_string(sizes->step.registers) + "), got " +
          context->input(input).shape().DebugString());
    }
  }
  if (trace_errors) {
    // The op builds each target row from its cell: a cell outside [0, M)
    // would make a row of zeros, no memory's.
    const auto cells = context->input(kErrorTarget).flat<int32_t>();
    for (int64_t i = 0; i < cells.size(); ++i) {
      if (cells(i) < 0 || cells(i) >= sizes->step.memory) {
        return absl::InvalidArgumentError(
            "error_target must hold cell values in [0, M = " +
            std::to_string(sizes->step.memory) + "), got " +
            std::to_string(cells(i)) + " at flat index " + std::to_string(i));
      }
    }
  }
  return absl::OkStatus();
}

REGISTER_OP("AncMachineRun")
    .Input("memory: float")
    .Input("registers: float")
    .Input("instruction_register: float")
    .Input("halting: float")
    .Input("instruction_logits: float")
    .Input("first_argument_logits: float")
    .Input("second_argument_logits: float")
    .Input("output_logits: float")
    .Input("error_target: int32")
    .Input("error_mask: float")
    .Attr("max_steps: int >= 1")
    .Attr("eta_stop: float")
    .Attr("trace_memory: bool = false")
    .Attr("trace_errors: bool = false")
    .Attr("halting_mixture: bool = false")
    .Attr("halting_gradient: {'exact', 'authors'} = 'exact'")
    .Output("final_memory: float")
    .Output("final_registers: float")
    .Output("halting_probabilities: float")
    .Output("running: bool")
    .Output("steps: int32")
    .Output("memory_trace: float")
    .Output("step_errors: float")
    .Output("saved: float")
    .Output("memory_at_halting: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, memory_size, num_registers;
      TF_RETURN_IF_ERROR(
          InferRunInputShapes(c, &batch, &memory_size, &num_registers));
      int64_t max_steps;
      bool trace_memory, trace_errors, halting_mixture;
      TF_RETURN_IF_ERROR(c->GetAttr("max_steps", &max_steps));
      TF_RETURN_IF_ERROR(c->GetAttr("trace_memory", &trace_memory));
      TF_RETURN_IF_ERROR(c->GetAttr("trace_errors", &trace_errors));
      TF_RETURN_IF_ERROR(c->GetAttr("halting_mixture", &halting_mixture));
      if (trace_errors) {
        ShapeHandle unused;
        for (int input : {kErrorTarget, kErrorMask}) {
          TF_RETURN_IF_ERROR(c->Merge(
              c->input(input), c->MakeShape({batch, memory_size}), &unused));
        }
      }
      const DimensionHandle steps = c->MakeDim(max_steps);
      DimensionHandle streams = c->UnknownDim(),
                      saved_stream = c->UnknownDim(), width = c->UnknownDim();
      if (c->ValueKnown(batch) && c->ValueKnown(memory_size) &&
          c->ValueKnown(num_registers)) {
        const RunSizes n(c->Value(batch), 1, max_steps,
                         {c->Value(memory_size), c->Value(num_registers)});
        streams = c->MakeDim(n.streams);
        saved_stream = c->MakeDim(n.saved_stream);
        width = c->MakeDim(n.width);
      }
      c->set_output(kFinalMemory,
                    c->MakeShape({batch, memory_size, memory_size}));
      c->set_output(kFinalRegisters,
                    c->MakeShape({batch, num_registers, memory_size}));
      c->set_output(kHaltingProbabilities, c->MakeShape({batch, steps}));
      c->set_output(kRunning, c->MakeShape({batch, steps}));
      c->set_output(kSteps, c->MakeShape({batch}));
      c->set_output(kMemoryTrace,
                    c->MakeShape({batch, trace_memory ? steps : c->MakeDim(0),
                                  memory_size, memory_size}));
      c->set_output(kStepErrors,
                    c->MakeShape({batch, trace_errors ? steps : c->MakeDim(0)}));
      c->set_output(kSaved, c->MakeShape({streams, saved_stream, width}));
      c->set_output(kMemoryAtHalting,
                    c->MakeShape({halting_mixture ? batch : c->MakeDim(0),
                                  memory_size, memory_size}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Runs the differentiable machine for up to max_steps steps, the controller and
the per-example halting mask included: tf_anc.machine.SoftMachine's loop.

memory, registers, instruction_register, halting: the initial state,
  [B, M, M], [B, R, M], [B, M], [B]; the batch is restart-major.
instruction_logits: [K, M, 11]; first_argument_logits, second_argument_logits,
  output_logits: [K, M, R]. Example b runs restart b / (B / K).
final_memory, final_registers: the state after the run.
halting_probabilities, running: [B, T], the halting probability after step t
  and whether the example executed step t (p < eta_stop before it).
steps: [B], the steps each example executed.
error_target, error_mask: [B, M] with trace_errors, else ignored (pass empty
  tensors): each cell's target value, in [0, M), and its weight.
memory_trace: [B, T, M, M], the memory after each step (a halted example's
  repeats); [B, 0, M, M] unless trace_memory.
step_errors: [B, T], the error of the memory after each step,
  sum_i error_mask[i] sum_c (memory[i, c] - [c = error_target[i]])^2 (the
  confidence loss's); [B, 0] unless trace_errors.
saved: what AncMachineRunGrad reads, by streams of examples run in lanes
  (16 with AVX-512, 8 with AVX, else 4; 1 for a batch under half that), a
  lane taking the stream's next example when its own halts: the lanes'
  state every 8 vector steps and what each step computed on the way; no
  gradient.
memory_at_halting: [B, M, M] with halting_mixture, else [0, M, M]: the
  memory a machine that stops where it halts would output,
  sum_t (p_t - p_{t-1}) memory_t + (1 - p_T) memory_T with p_0 = 0 (the
  memory after step t weighted by the probability of halting there), kept
  without a trace; no gradient.
)doc");

REGISTER_OP("AncMachineRunGrad")
    .Input("memory: float")
    .Input("registers: float")
    .Input("instruction_register: float")
    .Input("halting: float")
    .Input("instruction_logits: float")
    .Input("first_argument_logits: float")
    .Input("second_argument_logits: float")
    .Input("output_logits: float")
    .Input("error_target: int32")
    .Input("error_mask: float")
    .Input("running: bool")
    .Input("saved: float")
    .Input("grad_final_memory: float")
    .Input("grad_final_registers: float")
    .Input("grad_halting_probabilities: float")
    .Input("grad_memory_trace: float")
    .Input("grad_step_errors: float")
    .Attr("halting_gradient: {'exact', 'authors'} = 'exact'")
    .Attr("memory_gradient: bool = true")
    .Output("grad_memory: float")
    .Output("grad_registers: float")
    .Output("grad_instruction_register: float")
    .Output("grad_halting: float")
    .Output("grad_instruction_logits: float")
    .Output("grad_first_argument_logits: float")
    .Output("grad_second_argument_logits: float")
    .Output("grad_output_logits: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, memory_size, num_registers;
      TF_RETURN_IF_ERROR(
          InferRunInputShapes(c, &batch, &memory_size, &num_registers));
      for (int output = 0; output < kNumInputs; ++output) {
        c->set_output(output, c->input(output));
      }
      bool memory_gradient;
      TF_RETURN_IF_ERROR(c->GetAttr("memory_gradient", &memory_gradient));
      if (!memory_gradient) {
        c->set_output(kMemory,
                      c->MakeShape({0, memory_size, memory_size}));
      }
      return absl::OkStatus();
    })
    .Doc(R"doc(
The gradient of AncMachineRun with respect to its first eight inputs (the
error target and mask have none), from the forward op's inputs, its running
and saved outputs and the gradients of its final_memory, final_registers,
halting_probabilities, memory_trace and step_errors. An empty gradient (e.g.
shape [0]) stands for zeros: an output nobody used. Without memory_gradient,
grad_memory is empty ([0, M, M]): the initial memory's gradient, not wanted
(e.g. the memory is data), is not computed.
)doc");

}  // namespace tf_anc
