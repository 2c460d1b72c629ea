// A whole run of the differentiable machine as two fused CPU ops:
// `AncMachineRun` executes up to T = max_steps steps, the controller and the
// halting mask included, and `AncMachineRunGrad` is its hand-derived
// backward pass. The reference is tf_anc/machine/soft_machine.py's plain-TF
// loop; tests/test_fused_run.py holds both to the same values and gradients.
//
// Per example, a step is: the controller's four softmaxes over
// `instruction_register @ logits` (the logits of the example's restart),
// then the machine step (step_arithmetic.cc), applied only while the
// example's halting probability is below eta_stop; a halted example keeps
// its state. Examples are independent, so each thread runs its share of the
// batch through all T steps with no synchronisation. The forward op keeps
// the state after every step (the traces, also outputs), which the backward
// pass reads instead of recomputing the run.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/for_each_example.h"
#include "ops/step_arithmetic.h"
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

// The run's eight inputs, in op order: the initial state, then the logits.
enum Input {
  kMemory, kRegisters, kInstructionRegister, kHalting, kInstructionLogits,
  kFirstArgumentLogits, kSecondArgumentLogits, kOutputLogits, kNumInputs
};
constexpr int kNumLogits = 4;
constexpr const char* kInputNames[kNumInputs] = {
    "memory", "registers", "instruction_register", "halting",
    "instruction_logits", "first_argument_logits", "second_argument_logits",
    "output_logits"};

// The forward op's outputs, in op order.
enum Output {
  kFinalMemory, kFinalRegisters, kHaltingProbabilities, kRunning, kSteps,
  kMemoryTrace, kRegistersTrace, kInstructionRegisterTrace, kNumOutputs
};
// The outputs that have a gradient, in the order the gradient op takes them.
constexpr Output kDifferentiableOutputs[] = {
    kFinalMemory, kFinalRegisters, kHaltingProbabilities, kMemoryTrace,
    kRegistersTrace, kInstructionRegisterTrace};
constexpr int kNumDifferentiableOutputs = 6;
constexpr const char* kOutputNames[kNumOutputs] = {
    "memory", "registers", "halting_probabilities", "running", "steps",
    "memory_trace", "registers_trace", "instruction_register_trace"};

// The sizes of one run.
struct RunSizes {
  int64_t batch;     // B, restart-major: example b runs restart b / (B / K)
  int64_t restarts;  // K
  int64_t steps;     // T
  Sizes step;        // M and R
};

// ---------------------------------------------------------------------------
// Shapes.

// Checks the eight run inputs against each other; sets B, K, M and R.
absl::Status InferRunInputShapes(InferenceContext* c, DimensionHandle* batch,
                                 DimensionHandle* restarts,
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
  *restarts = c->UnknownDim();
  for (int input = kInstructionLogits; input < kNumInputs; ++input) {
    ShapeHandle logits;
    TF_RETURN_IF_ERROR(c->WithRank(c->input(input), 3, &logits));
    TF_RETURN_IF_ERROR(c->Merge(*restarts, c->Dim(logits, 0), restarts));
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

// The shapes of the eight inputs and of the eight outputs of a run.
std::vector<TensorShape> RunInputShapes(const RunSizes& n) {
  const int64_t m = n.step.memory, r = n.step.registers;
  return {TensorShape({n.batch, m, m}),
          TensorShape({n.batch, r, m}),
          TensorShape({n.batch, m}),
          TensorShape({n.batch}),
          TensorShape({n.restarts, m, kNumInstructions}),
          TensorShape({n.restarts, m, r}),
          TensorShape({n.restarts, m, r}),
          TensorShape({n.restarts, m, r})};
}

std::vector<TensorShape> RunOutputShapes(const RunSizes& n) {
  const int64_t m = n.step.memory, r = n.step.registers;
  return {TensorShape({n.batch, m, m}),
          TensorShape({n.batch, r, m}),
          TensorShape({n.batch, n.steps}),
          TensorShape({n.batch, n.steps}),
          TensorShape({n.batch}),
          TensorShape({n.batch, n.steps, m, m}),
          TensorShape({n.batch, n.steps, r, m}),
          TensorShape({n.batch, n.steps, m})};
}

// Validates the eight run inputs at run time (shape functions only see
// static shapes); reads B, K, M and R from them.
absl::Status ValidateRunInputs(OpKernelContext* context, int64_t steps,
                               RunSizes* sizes) {
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
  *sizes = {memory.dim_size(0), instruction_logits.dim_size(0), steps,
            {memory.dim_size(1), registers.dim_size(1)}};
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
  for (int input = 0; input < kNumInputs; ++input) {
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
  return absl::OkStatus();
}

// Rough cycles per example of a run: T steps and their controllers.
int64_t RunCost(const RunSizes& n) {
  const int64_t controller =
      4 * n.step.memory * (kNumInstructions + 3 * n.step.registers);
  return n.steps * (StepCost(n.step) + controller);
}

// ---------------------------------------------------------------------------
// The controller.

// The widths of the four logits matrices: [M, width] each.
std::vector<int64_t> LogitsWidths(const Sizes& n) {
  return {kNumInstructions, n.registers, n.registers, n.registers};
}

// One restart's four logits matrices, or their gradients.
template <typename Float>
struct Logits {
  Float* matrices[kNumLogits];
};

// Restart k's logits; `data[i]` points at input kInstructionLogits + i.
template <typename Float>
Logits<Float> RestartLogits(const Sizes& n, Float* const* data, int64_t k) {
  const std::vector<int64_t> widths = LogitsWidths(n);
  Logits<Float> logits;
  for (int i = 0; i < kNumLogits; ++i) {
    logits.matrices[i] = data[i] + k * n.memory * widths[i];
  }
  return logits;
}

// The controller's command for one example and its gradient; one per
// thread. command[i] = softmax(instruction_register @ logits[i]).
struct ControllerScratch {
  explicit ControllerScratch(const Sizes& n) : widths(LogitsWidths(n)) {
    for (int i = 0; i < kNumLogits; ++i) {
      probabilities[i].resize(widths[i]);
      gradients[i].resize(widths[i]);
    }
  }

  Command command() const {
    return {probabilities[0].data(), probabilities[1].data(),
            probabilities[2].data(), probabilities[3].data()};
  }
  MutableCommand command_gradient() {
    return {gradients[0].data(), gradients[1].data(), gradients[2].data(),
            gradients[3].data()};
  }

  std::vector<int64_t> widths;
  std::vector<float> probabilities[kNumLogits];
  std::vector<float> gradients[kNumLogits];  // of the probabilities
};

// Sets scratch->probabilities to the command for `instruction_register`.
void ControllerForward(const Sizes& n, const Logits<const float>& logits,
                       const float* instruction_register,
                       ControllerScratch* scratch) {
  for (int i = 0; i < kNumLogits; ++i) {
    const int64_t width = scratch->widths[i];
    float* p = scratch->probabilities[i].data();
    std::fill(p, p + width, 0.0f);
    for (int64_t m = 0; m < n.memory; ++m) {
      const float weight = instruction_register[m];
      const float* row = logits.matrices[i] + m * width;
      for (int64_t j = 0; j < width; ++j) p[j] += weight * row[j];
    }
    const float largest = *std::max_element(p, p + width);
    float total = 0.0f;
    for (int64_t j = 0; j < width; ++j) {
      p[j] = std::exp(p[j] - largest);
      total += p[j];
    }
    for (int64_t j = 0; j < width; ++j) p[j] /= total;
  }
}

// From scratch->gradients (of the command), adds the gradients with respect
// to the logits and to the instruction register.
void ControllerBackward(const Sizes& n, const Logits<const float>& logits,
                        const float* instruction_register,
                        ControllerScratch* scratch,
                        const Logits<float>& grad_logits,
                        float* grad_instruction_register) {
  for (int i = 0; i < kNumLogits; ++i) {
    const int64_t width = scratch->widths[i];
    const float* p = scratch->probabilities[i].data();
    float* g = scratch->gradients[i].data();
    // Softmax: d logit_j = p_j (g_j - sum_l g_l p_l); in place.
    float mean = 0.0f;
    for (int64_t j = 0; j < width; ++j) mean += g[j] * p[j];
    for (int64_t j = 0; j < width; ++j) g[j] = p[j] * (g[j] - mean);
    // logit = instruction_register @ logits[i].
    for (int64_t m = 0; m < n.memory; ++m) {
      const float weight = instruction_register[m];
      const float* row = logits.matrices[i] + m * width;
      float* grad_row = grad_logits.matrices[i] + m * width;
      float grad_weight = 0.0f;
      for (int64_t j = 0; j < width; ++j) {
        grad_row[j] += weight * g[j];
        grad_weight += row[j] * g[j];
      }
      grad_instruction_register[m] += grad_weight;
    }
  }
}

// ---------------------------------------------------------------------------
// Per-example state buffers.

// The per-example sizes of the state's parts: memory, registers, IR.
struct StateSizes {
  explicit StateSizes(const Sizes& n)
      : memory(n.memory * n.memory), registers(n.registers * n.memory),
        instruction_register(n.memory) {}

  int64_t memory, registers, instruction_register;
};

// Example b's state after step t (t = -1: the initial state).
struct Trajectory {
  State At(int64_t b, int64_t t) const {
    if (t < 0) {
      return {initial_memory + b * sizes.memory,
              initial_registers + b * sizes.registers,
              initial_instruction_register + b * sizes.instruction_register,
              initial_halting[b]};
    }
    const int64_t slot = b * steps + t;
    return {memory + slot * sizes.memory, registers + slot * sizes.registers,
            instruction_register + slot * sizes.instruction_register,
            halting[slot]};
  }

  StateSizes sizes;
  int64_t steps;
  const float* initial_memory;
  const float* initial_registers;
  const float* initial_instruction_register;
  const float* initial_halting;
  const float* memory;                // [B, T, M, M]
  const float* registers;             // [B, T, R, M]
  const float* instruction_register;  // [B, T, M]
  const float* halting;               // [B, T]
};

Trajectory MakeTrajectory(OpKernelContext* context, const RunSizes& n,
                          const Tensor& memory_trace,
                          const Tensor& registers_trace,
                          const Tensor& instruction_register_trace,
                          const Tensor& halting_probabilities) {
  auto input = [context](int index) {
    return context->input(index).flat<float>().data();
  };
  return {StateSizes(n.step), n.steps,
          input(kMemory), input(kRegisters), input(kInstructionRegister),
          input(kHalting), memory_trace.flat<float>().data(),
          registers_trace.flat<float>().data(),
          instruction_register_trace.flat<float>().data(),
          halting_probabilities.flat<float>().data()};
}

// The input logits as pointers, in op order.
void LogitsInputs(OpKernelContext* context, const float* logits[kNumLogits]) {
  for (int i = 0; i < kNumLogits; ++i) {
    logits[i] = context->input(kInstructionLogits + i).flat<float>().data();
  }
}

// ---------------------------------------------------------------------------
// Forward op.

class AncMachineRunOp : public OpKernel {
 public:
  explicit AncMachineRunOp(OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("max_steps", &max_steps_));
    OP_REQUIRES_OK(context, context->GetAttr("eta_stop", &eta_stop_));
  }

  void Compute(OpKernelContext* context) override {
    RunSizes n;
    OP_REQUIRES_OK(context, ValidateRunInputs(context, max_steps_, &n));
    const std::vector<TensorShape> shapes = RunOutputShapes(n);
    Tensor* outputs[kNumOutputs];
    for (int output = 0; output < kNumOutputs; ++output) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  output, shapes[output], &outputs[output]));
    }
    const Trajectory trajectory = MakeTrajectory(
        context, n, *outputs[kMemoryTrace], *outputs[kRegistersTrace],
        *outputs[kInstructionRegisterTrace], *outputs[kHaltingProbabilities]);
    const StateSizes& state_sizes = trajectory.sizes;
    // The traces, written here; `trajectory` reads them back.
    float* memory_trace = outputs[kMemoryTrace]->flat<float>().data();
    float* registers_trace = outputs[kRegistersTrace]->flat<float>().data();
    float* ir_trace = outputs[kInstructionRegisterTrace]->flat<float>().data();
    float* halting_trace = outputs[kHaltingProbabilities]->flat<float>().data();
    bool* running = outputs[kRunning]->flat<bool>().data();
    int32_t* steps = outputs[kSteps]->flat<int32_t>().data();
    float* final_memory = outputs[kFinalMemory]->flat<float>().data();
    float* final_registers = outputs[kFinalRegisters]->flat<float>().data();
    const float* logits[kNumLogits];
    LogitsInputs(context, logits);
    const int64_t examples_per_restart = n.batch / n.restarts;

    ForEachExample(context, n.batch, RunCost(n), [&](int64_t begin,
                                                     int64_t end) {
      StepScratch step_scratch(n.step);
      ControllerScratch controller(n.step);
      for (int64_t b = begin; b < end; ++b) {
        const Logits<const float> restart_logits =
            RestartLogits(n.step, logits, b / examples_per_restart);
        steps[b] = 0;
        for (int64_t t = 0; t < n.steps; ++t) {
          const State state = trajectory.At(b, t - 1);
          const int64_t slot = b * n.steps + t;
          const MutableState next{
              memory_trace + slot * state_sizes.memory,
              registers_trace + slot * state_sizes.registers,
              ir_trace + slot * state_sizes.instruction_register,
              halting_trace + slot};
          running[slot] = state.halting < eta_stop_;
          if (running[slot]) {
            ControllerForward(n.step, restart_logits,
                              state.instruction_register, &controller);
            StepForward(n.step, state, controller.command(), &step_scratch,
                        next);
            ++steps[b];
          } else {  // halted: frozen
            std::copy_n(state.memory, state_sizes.memory, next.memory);
            std::copy_n(state.registers, state_sizes.registers,
                        next.registers);
            std::copy_n(state.instruction_register,
                        state_sizes.instruction_register,
                        next.instruction_register);
            *next.halting = state.halting;
          }
        }
        const State last = trajectory.At(b, n.steps - 1);
        std::copy_n(last.memory, state_sizes.memory,
                    final_memory + b * state_sizes.memory);
        std::copy_n(last.registers, state_sizes.registers,
                    final_registers + b * state_sizes.registers);
      }
    });
  }

 private:
  int64_t max_steps_;
  float eta_stop_;
};

// ---------------------------------------------------------------------------
// Gradient op.

// The gradient op's inputs after the forward op's eight: the forward
// outputs the backward pass reads, then the gradients of the
// differentiable outputs.
enum GradInput {
  kForwardRunning = kNumInputs,
  kForwardHaltingProbabilities,
  kForwardMemoryTrace,
  kForwardRegistersTrace,
  kForwardInstructionRegisterTrace,
  kFirstOutputGradient
};

class AncMachineRunGradOp : public OpKernel {
 public:
  explicit AncMachineRunGradOp(OpKernelConstruction* context)
      : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& running_tensor = context->input(kForwardRunning);
    OP_REQUIRES(context, running_tensor.dims() == 2,
                absl::InvalidArgumentError(
                    "running must have shape [batch, steps], got " +
                    running_tensor.shape().DebugString()));
    RunSizes n;
    OP_REQUIRES_OK(context, ValidateRunInputs(
                                context, running_tensor.dim_size(1), &n));
    const std::vector<TensorShape> output_shapes = RunOutputShapes(n);
    const Output forward_outputs[] = {
        kRunning, kHaltingProbabilities, kMemoryTrace, kRegistersTrace,
        kInstructionRegisterTrace};
    for (int i = 0; i < 5; ++i) {
      const Tensor& value = context->input(kForwardRunning + i);
      const Output output = forward_outputs[i];
      OP_REQUIRES(context, value.shape() == output_shapes[output],
                  absl::InvalidArgumentError(
                      std::string(kOutputNames[output]) +
                      " must have shape " +
                      output_shapes[output].DebugString() + ", got " +
                      value.shape().DebugString()));
    }
    // An empty gradient stands for zeros (an output nobody used).
    const float* output_gradients[kNumDifferentiableOutputs];
    for (int i = 0; i < kNumDifferentiableOutputs; ++i) {
      const Tensor& gradient = context->input(kFirstOutputGradient + i);
      const Output output = kDifferentiableOutputs[i];
      OP_REQUIRES(
          context,
          gradient.NumElements() == 0 ||
              gradient.shape() == output_shapes[output],
          absl::InvalidArgumentError(
              std::string("gradient of ") + kOutputNames[output] +
              " must have shape " + output_shapes[output].DebugString() +
              " or be empty (zero), got " + gradient.shape().DebugString()));
      output_gradients[i] = gradient.NumElements() == 0
                                ? nullptr
                                : gradient.flat<float>().data();
    }
    const std::vector<TensorShape> input_shapes = RunInputShapes(n);
    Tensor* gradients[kNumInputs];
    for (int input = 0; input < kNumInputs; ++input) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  input, input_shapes[input],
                                  &gradients[input]));
    }
    // Each example's gradient of its restart's logits, summed afterwards:
    // threads never write to the same logits.
    const std::vector<int64_t> widths = LogitsWidths(n.step);
    int64_t logits_per_restart = 0;
    for (int64_t width : widths) logits_per_restart += n.step.memory * width;
    Tensor example_grad_logits;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                ::tensorflow::DT_FLOAT,
                                TensorShape({n.batch, logits_per_restart}),
                                &example_grad_logits));

    const Trajectory trajectory = MakeTrajectory(
        context, n, context->input(kForwardMemoryTrace),
        context->input(kForwardRegistersTrace),
        context->input(kForwardInstructionRegisterTrace),
        context->input(kForwardHaltingProbabilities));
    const StateSizes& state_sizes = trajectory.sizes;
    const bool* running = running_tensor.flat<bool>().data();
    const float* logits[kNumLogits];
    LogitsInputs(context, logits);
    const int64_t examples_per_restart = n.batch / n.restarts;
    float* grad_memory = gradients[kMemory]->flat<float>().data();
    float* grad_registers = gradients[kRegisters]->flat<float>().data();
    float* grad_ir = gradients[kInstructionRegister]->flat<float>().data();
    float* grad_halting = gradients[kHalting]->flat<float>().data();

    ForEachExample(context, n.batch, 2 * RunCost(n), [&](int64_t begin,
                                                         int64_t end) {
      StepScratch step_scratch(n.step);
      ControllerScratch controller(n.step);
      // The gradient with respect to the state after the step being undone
      // and before it; swapped after each step.
      StateBuffer after(state_sizes), before(state_sizes);
      for (int64_t b = begin; b < end; ++b) {
        const Logits<const float> restart_logits =
            RestartLogits(n.step, logits, b / examples_per_restart);
        float* example_logits_gradient =
            example_grad_logits.flat<float>().data() + b * logits_per_restart;
        std::fill_n(example_logits_gradient, logits_per_restart, 0.0f);
        Logits<float> grad_logits;
        for (int i = 0, offset = 0; i < kNumLogits; ++i) {
          grad_logits.matrices[i] = example_logits_gradient + offset;
          offset += n.step.memory * widths[i];
        }
        after.Clear();
        AddIfGiven(output_gradients[0], b, state_sizes.memory,
                   after.memory.data());
        AddIfGiven(output_gradients[1], b, state_sizes.registers,
                   after.registers.data());
        for (int64_t t = n.steps - 1; t >= 0; --t) {
          const int64_t slot = b * n.steps + t;
          AddIfGiven(output_gradients[2], slot, 1, &after.halting);
          AddIfGiven(output_gradients[3], slot, state_sizes.memory,
                     after.memory.data());
          AddIfGiven(output_gradients[4], slot, state_sizes.registers,
                     after.registers.data());
          AddIfGiven(output_gradients[5], slot,
                     state_sizes.instruction_register,
                     after.instruction_register.data());
          if (!running[slot]) continue;  // frozen: the gradient passes
          const State state = trajectory.At(b, t - 1);
          ControllerForward(n.step, restart_logits,
                            state.instruction_register, &controller);
          StepBackward(n.step, state, controller.command(), after.Read(),
                       &step_scratch, before.Write(),
                       controller.command_gradient());
          ControllerBackward(n.step, restart_logits,
                             state.instruction_register, &controller,
                             grad_logits, before.instruction_register.data());
          std::swap(after, before);
        }
        std::copy_n(after.memory.data(), state_sizes.memory,
                    grad_memory + b * state_sizes.memory);
        std::copy_n(after.registers.data(), state_sizes.registers,
                    grad_registers + b * state_sizes.registers);
        std::copy_n(after.instruction_register.data(),
                    state_sizes.instruction_register,
                    grad_ir + b * state_sizes.instruction_register);
        grad_halting[b] = after.halting;
      }
    });

    // Sum each restart's examples' logits gradients.
    const float* example_gradients = example_grad_logits.flat<float>().data();
    for (int i = 0, offset = 0; i < kNumLogits; ++i) {
      const int64_t size = n.step.memory * widths[i];
      float* grad = gradients[kInstructionLogits + i]->flat<float>().data();
      for (int64_t k = 0; k < n.restarts; ++k) {
        float* restart_grad = grad + k * size;
        std::fill_n(restart_grad, size, 0.0f);
        for (int64_t b = k * examples_per_restart;
             b < (k + 1) * examples_per_restart; ++b) {
          const float* example =
              example_gradients + b * logits_per_restart + offset;
          for (int64_t j = 0; j < size; ++j) restart_grad[j] += example[j];
        }
      }
      offset += size;
    }
  }

 private:
  // One example's state gradient.
  struct StateBuffer {
    explicit StateBuffer(const StateSizes& sizes)
        : memory(sizes.memory), registers(sizes.registers),
          instruction_register(sizes.instruction_register) {}

    void Clear() {
      std::fill(memory.begin(), memory.end(), 0.0f);
      std::fill(registers.begin(), registers.end(), 0.0f);
      std::fill(instruction_register.begin(), instruction_register.end(),
                0.0f);
      halting = 0.0f;
    }
    State Read() const {
      return {memory.data(), registers.data(), instruction_register.data(),
              halting};
    }
    MutableState Write() {
      return {memory.data(), registers.data(), instruction_register.data(),
              &halting};
    }

    std::vector<float> memory, registers, instruction_register;
    float halting = 0.0f;
  };

  // values += gradient[index * size, (index + 1) * size) unless the
  // gradient is absent (zero).
  static void AddIfGiven(const float* gradient, int64_t index, int64_t size,
                         float* values) {
    if (gradient == nullptr) return;
    const float* slice = gradient + index * size;
    for (int64_t i = 0; i < size; ++i) values[i] += slice[i];
  }
};

}  // namespace

REGISTER_OP("AncMachineRun")
    .Input("memory: float")
    .Input("registers: float")
    .Input("instruction_register: float")
    .Input("halting: float")
    .Input("instruction_logits: float")
    .Input("first_argument_logits: float")
    .Input("second_argument_logits: float")
    .Input("output_logits: float")
    .Attr("max_steps: int >= 1")
    .Attr("eta_stop: float")
    .Output("final_memory: float")
    .Output("final_registers: float")
    .Output("halting_probabilities: float")
    .Output("running: bool")
    .Output("steps: int32")
    .Output("memory_trace: float")
    .Output("registers_trace: float")
    .Output("instruction_register_trace: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, restarts, memory_size, num_registers;
      TF_RETURN_IF_ERROR(InferRunInputShapes(c, &batch, &restarts,
                                             &memory_size, &num_registers));
      int64_t max_steps;
      TF_RETURN_IF_ERROR(c->GetAttr("max_steps", &max_steps));
      const DimensionHandle steps = c->MakeDim(max_steps);
      c->set_output(kFinalMemory,
                    c->MakeShape({batch, memory_size, memory_size}));
      c->set_output(kFinalRegisters,
                    c->MakeShape({batch, num_registers, memory_size}));
      c->set_output(kHaltingProbabilities, c->MakeShape({batch, steps}));
      c->set_output(kRunning, c->MakeShape({batch, steps}));
      c->set_output(kSteps, c->MakeShape({batch}));
      c->set_output(kMemoryTrace,
                    c->MakeShape({batch, steps, memory_size, memory_size}));
      c->set_output(kRegistersTrace, c->MakeShape({batch, steps, num_registers,
                                                   memory_size}));
      c->set_output(kInstructionRegisterTrace,
                    c->MakeShape({batch, steps, memory_size}));
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
memory_trace, registers_trace, instruction_register_trace: the state after
  each step; a halted example's state repeats.
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
    .Input("running: bool")
    .Input("halting_probabilities: float")
    .Input("memory_trace: float")
    .Input("registers_trace: float")
    .Input("instruction_register_trace: float")
    .Input("grad_final_memory: float")
    .Input("grad_final_registers: float")
    .Input("grad_halting_probabilities: float")
    .Input("grad_memory_trace: float")
    .Input("grad_registers_trace: float")
    .Input("grad_instruction_register_trace: float")
    .Output("grad_memory: float")
    .Output("grad_registers: float")
    .Output("grad_instruction_register: float")
    .Output("grad_halting: float")
    .Output("grad_instruction_logits: float")
    .Output("grad_first_argument_logits: float")
    .Output("grad_second_argument_logits: float")
    .Output("grad_output_logits: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, restarts, memory_size, num_registers;
      TF_RETURN_IF_ERROR(InferRunInputShapes(c, &batch, &restarts,
                                             &memory_size, &num_registers));
      for (int output = 0; output < kNumInputs; ++output) {
        c->set_output(output, c->input(output));
      }
      return absl::OkStatus();
    })
    .Doc(R"doc(
The gradient of AncMachineRun with respect to its eight inputs, from the
forward op's inputs, the outputs it reads back (running,
halting_probabilities and the three traces) and the gradients of its six
float outputs, in output order. An empty gradient (e.g. shape [0]) stands
for zeros: an output nobody used.
)doc");

REGISTER_KERNEL_BUILDER(
    Name("AncMachineRun").Device(::tensorflow::DEVICE_CPU), AncMachineRunOp);
REGISTER_KERNEL_BUILDER(
    Name("AncMachineRunGrad").Device(::tensorflow::DEVICE_CPU),
    AncMachineRunGradOp);

}  // namespace tf_anc
