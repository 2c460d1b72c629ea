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
// its state. Examples are independent: the batch runs in groups of kLanes
// examples, one per SIMD lane (padded with idle lanes), so that every
// operation is a vector operation whatever M is; the groups are split over
// TF's CPU thread pool and each runs all T steps with no synchronisation.
// The forward op keeps what each step computed on the way and the state
// every few steps (`saved`, in lanes); the backward pass recomputes the
// states in between from those, cheaply, rather than the whole steps.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parallel_for.h"
#include "step_arithmetic.h"
#include "vector_ops.h"
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

// The run's inputs, in op order: the initial state, then the logits of the
// four command distributions (the kNumInputs that have gradients), then
// the target of the per-step errors and its mask (empty unless
// trace_errors).
enum Input {
  kMemory, kRegisters, kInstructionRegister, kHalting, kInstructionLogits,
  kFirstArgumentLogits, kSecondArgumentLogits, kOutputLogits, kNumInputs,
  kErrorTarget = kNumInputs, kErrorMask, kNumRunInputs
};
constexpr int kNumDistributions = 4;
constexpr const char* kInputNames[kNumRunInputs] = {
    "memory", "registers", "instruction_register", "halting",
    "instruction_logits", "first_argument_logits", "second_argument_logits",
    "output_logits", "error_target", "error_mask"};

// The forward op's outputs, in op order.
enum Output {
  kFinalMemory, kFinalRegisters, kHaltingProbabilities, kRunning, kSteps,
  kMemoryTrace, kStepErrors, kSaved, kNumOutputs
};
// The gradient op's inputs after the forward op's ten: two forward
// outputs, then the gradients of the five float outputs other than saved.
enum GradInput {
  kForwardRunning = kNumRunInputs, kForwardSaved, kGradFinalMemory,
  kGradFinalRegisters, kGradHaltingProbabilities, kGradMemoryTrace,
  kGradStepErrors, kNumGradInputs
};

// A command's four distributions side by side, e (kNumInstructions values),
// a, b and o (R each): the controller computes their logits as one
// vector-matrix product with the four logits matrices side by side.
struct CommandLayout {
  explicit CommandLayout(const Sizes& n)
      : widths{kNumInstructions, n.registers, n.registers, n.registers},
        offsets{0, kNumInstructions, kNumInstructions + n.registers,
                kNumInstructions + 2 * n.registers},
        size(kNumInstructions + 3 * n.registers) {}

  template <typename T>
  T* At(T* command, int distribution) const {
    return command + offsets[distribution];
  }
  template <typename V>
  Command<V> Read(const V* command) const {
    return {At(command, 0), At(command, 1), At(command, 2), At(command, 3)};
  }
  template <typename V>
  MutableCommand<V> Write(V* command) const {
    return {At(command, 0), At(command, 1), At(command, 2), At(command, 3)};
  }

  int64_t widths[kNumDistributions];
  int64_t offsets[kNumDistributions];
  int64_t size;  // N
};

// How many steps apart the forward pass keeps a group's state; the backward
// pass recomputes the states in between from the steps' saved values (with
// ApplyStep, a small part of a step's cost). Keeping every state instead
// makes a large batch's saved run outgrow the caches: its memory traffic
// then costs more than the arithmetic.
constexpr int64_t kCheckpointInterval = 8;

// How many examples a group runs side by side: kLanes, or one for a batch
// that would leave most lanes of a group idle (a group of kLanes costs
// about what two to four examples do one at a time).
int64_t GroupWidth(int64_t batch) {
  return 2 * batch < kLanes ? 1 : kLanes;
}

// The sizes of one run, and the layout of a group's saved run (in values
// of the group's width): the state before every kCheckpointInterval-th
// step (memory, registers, IR, halting), then each step's record: its
// command and its StepValues.
struct RunSizes {
  RunSizes(int64_t batch, int64_t restarts, int64_t steps, const Sizes& step)
      : batch(batch), restarts(restarts), steps(steps), step(step),
        command(step), width(GroupWidth(batch)),
        groups((batch + width - 1) / width),
        memory(step.memory * step.memory),
        registers(step.registers * step.memory),
        state(memory + registers + step.memory + 1),
        checkpoints((steps + kCheckpointInterval - 1) / kCheckpointInterval),
        step_record(command.size + StepValuesSize(step)),
        saved_group(checkpoints * state + steps * step_record),
        logits(step.memory * command.size) {}

  int64_t batch;     // B, restart-major: example b runs restart b / (B / K)
  int64_t restarts;  // K
  int64_t steps;     // T
  Sizes step;        // M and R
  CommandLayout command;
  int64_t width;   // examples per group: GroupWidth(B)
  int64_t groups;  // ceil(B / width)
  // Per example: the memory, the registers and the whole state; the
  // checkpoints per run, a step's record and a whole saved run; a restart's
  // logits side by side ([M, N]).
  int64_t memory, registers, state, checkpoints, step_record, saved_group,
      logits;
};

// One group's saved run.
template <typename T>  // V or const V
struct SavedRun {
  SavedRun(const RunSizes& n, T* saved, int64_t group)
      : n(n), data(saved + group * n.saved_group) {}

  // The state before step checkpoint * kCheckpointInterval.
  T* Checkpoint(int64_t checkpoint) const {
    return data + checkpoint * n.state;
  }
  // Step t's command, followed by its StepValues.
  T* Record(int64_t t) const {
    return data + n.checkpoints * n.state + t * n.step_record;
  }

  const RunSizes& n;
  T* data;
};

// ---------------------------------------------------------------------------
// Shapes.

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

// The shapes of the ten inputs (with trace_errors) and of the eight
// outputs of a run.
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
          TensorShape({n.batch, m, m}),
          TensorShape({n.batch, m})};
}

std::vector<TensorShape> RunOutputShapes(const RunSizes& n, bool trace_memory,
                                         bool trace_errors) {
  const int64_t m = n.step.memory, r = n.step.registers;
  return {TensorShape({n.batch, m, m}),
          TensorShape({n.batch, r, m}),
          TensorShape({n.batch, n.steps}),
          TensorShape({n.batch, n.steps}),
          TensorShape({n.batch}),
          TensorShape({n.batch, trace_memory ? n.steps : 0, m, m}),
          TensorShape({n.batch, trace_errors ? n.steps : 0}),
          TensorShape({n.groups, n.saved_group, n.width})};
}

// Validates the run inputs at run time (shape functions only see static
// shapes), the error target and mask only with `trace_errors`; reads B, K,
// M and R from them.
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
  return absl::OkStatus();
}

// Rough cycles of a group's run: T steps and their controllers.
int64_t GroupCost(const RunSizes& n) {
  return n.steps * (StepCost(n.step) + 4 * n.logits);
}

// ---------------------------------------------------------------------------
// Groups of examples in lanes. V is Lanes or float (a group of one).

// The examples [first, first + count) of a group, example first + l in lane
// l; lanes from count on are idle.
template <typename V>
struct Group {
  Group(const RunSizes& n, int64_t index)
      : first(index * n.width),
        count(static_cast<int>(std::min(n.width, n.batch - first))),
        active{} {
    for (int lane = 0; lane < count; ++lane) {
      LaneTraits<V>::Set(active, lane, -1);
    }
  }

  // Per lane, the start of its example's `size` values in `data`
  // ([B, size]), offset by `offset`.
  template <typename T>
  std::vector<T*> Rows(T* data, int64_t size, int64_t offset = 0) const {
    std::vector<T*> rows(count);
    for (int lane = 0; lane < count; ++lane) {
      rows[lane] = data + (first + lane) * size + offset;
    }
    return rows;
  }

  int64_t first;
  int count;
  Mask<V> active;  // the lanes that hold an example
};

// values[e][lane] = rows[lane][e] for e < size (0 in idle lanes).
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

// rows[lane][e] = values[e][lane] for the lanes that hold an example.
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

// One group's state at `data`, laid out as RunSizes says.
template <typename V>
State<V> ReadState(const RunSizes& n, const V* data) {
  return {data, data + n.memory, data + n.memory + n.registers,
          data[n.state - 1]};
}

template <typename V>
MutableState<V> WriteState(const RunSizes& n, V* data) {
  return {data, data + n.memory, data + n.memory + n.registers,
          data + n.state - 1};
}

// The group's initial state, gathered from the op's first four inputs.
template <typename V>
void GatherInitialState(OpKernelContext* context, const RunSizes& n,
                        const Group<V>& group, V* state) {
  auto rows = [&](int input, int64_t size) {
    return group.Rows(context->input(input).flat<float>().data(), size);
  };
  const MutableState<V> initial = WriteState(n, state);
  Gather(rows(kMemory, n.memory), n.memory, initial.memory);
  Gather(rows(kRegisters, n.registers), n.registers, initial.registers);
  Gather(rows(kInstructionRegister, n.step.memory), n.step.memory,
         initial.instruction_register);
  Gather(rows(kHalting, 1), 1, initial.halting);
}

// A group's per-step error target and mask, in lanes: the error of a
// memory is sum_i mask_i sum_c (memory[i, c] - target[i, c])^2, what the
// confidence loss charges each step (tf_anc/training/loss.py). The op
// computes it so that training needs no [B, T, M, M] memory trace.
template <typename V>
struct ErrorTarget {
  ErrorTarget(OpKernelContext* context, const RunSizes& n,
              const Group<V>& group)
      : target(n.memory), mask(n.step.memory) {
    auto rows = [&](int input, int64_t size) {
      return group.Rows(context->input(input).flat<float>().data(), size);
    };
    Gather(rows(kErrorTarget, n.memory), n.memory, target.data());
    Gather(rows(kErrorMask, n.step.memory), n.step.memory, mask.data());
  }

  V Error(const RunSizes& n, const V* memory) const {
    const int64_t size = n.step.memory;
    V error = {};
    for (int64_t i = 0; i < size; ++i) {
      V row_error = {};
      for (int64_t c = 0; c < size; ++c) {
        const V difference = memory[i * size + c] - target[i * size + c];
        row_error += difference * difference;
      }
      error += mask[i] * row_error;
    }
    return error;
  }

  // grad_memory += d (gradient * Error(memory)) / d memory.
  void AddGradient(const RunSizes& n, const V& gradient, const V* memory,
                   V* grad_memory) const {
    const int64_t size = n.step.memory;
    for (int64_t i = 0; i < size; ++i) {
      const V row_gradient = 2.0f * gradient * mask[i];
      for (int64_t c = 0; c < size; ++c) {
        grad_memory[i * size + c] +=
            row_gradient * (memory[i * size + c] - target[i * size + c]);
      }
    }
  }

  std::vector<V> target;  // [M, M]
  std::vector<V> mask;    // [M]
};

// ---------------------------------------------------------------------------
// The controller.

// Each restart's four logits matrices side by side: [K, M, N], row m
// holding e's, a's, b's and o's logits for IR = m.
void PackLogits(OpKernelContext* context, const RunSizes& n, float* packed) {
  for (int i = 0; i < kNumDistributions; ++i) {
    const float* logits =
        context->input(kInstructionLogits + i).flat<float>().data();
    const int64_t width = n.command.widths[i];
    for (int64_t row = 0; row < n.restarts * n.step.memory; ++row) {
      std::copy_n(logits + row * width, width,
                  packed + row * n.command.size + n.command.offsets[i]);
    }
  }
}

// Each lane's restart's packed logits ([M, N] in lanes).
template <typename V>
void GatherLogits(const RunSizes& n, const Group<V>& group,
                  const float* packed, V* logits) {
  const int64_t examples_per_restart = n.batch / n.restarts;
  const int64_t first_restart = group.first / examples_per_restart;
  if ((group.first + group.count - 1) / examples_per_restart ==
      first_restart) {
    // The usual case, one restart for the whole group: broadcast its logits
    // (idle lanes too, where they meet a zero state and stay unread).
    const float* restart_logits = packed + first_restart * n.logits;
    for (int64_t e = 0; e < n.logits; ++e) {
      logits[e] = V{} + restart_logits[e];
    }
    return;
  }
  std::vector<const float*> rows(group.count);
  for (int lane = 0; lane < group.count; ++lane) {
    rows[lane] = packed + (group.first + lane) / examples_per_restart *
                              n.logits;
  }
  Gather(rows, n.logits, logits);
}

// Writes the command for `instruction_register`: each distribution is the
// softmax of its part of instruction_register @ logits ([M, N]).
template <typename V>
void ControllerForward(const RunSizes& n, const V* logits,
                       const V* instruction_register, V* command) {
  const int64_t size = n.command.size;
  std::fill_n(command, size, V{});
  StridedDots(size, n.step.memory, instruction_register, logits, size,
              command);
  for (int i = 0; i < kNumDistributions; ++i) {
    V* p = n.command.At(command, i);
    const int64_t width = n.command.widths[i];
    V largest = p[0];
    for (int64_t j = 1; j < width; ++j) largest = Max(largest, p[j]);
    V total = {};
    for (int64_t j = 0; j < width; ++j) {
      p[j] = Exp(p[j] - largest);
      total += p[j];
    }
    const V inverse_total = 1.0f / total;
    for (int64_t j = 0; j < width; ++j) p[j] *= inverse_total;
  }
}

// From `grad_command`, the gradient with respect to the command's
// probabilities (overwritten with that of its logits, zero in the lanes
// that did not run), adds the gradients with respect to the logits
// ([M, N]) and to the instruction register.
template <typename V>
void ControllerBackward(const RunSizes& n, const V* logits,
                        const V* instruction_register, const V* command,
                        const Mask<V>& running, V* grad_command,
                        V* grad_logits, V* grad_instruction_register) {
  const int64_t size = n.command.size;
  const V zero = {};
  for (int i = 0; i < kNumDistributions; ++i) {
    // Softmax: d logit_j = p_j (g_j - sum_l g_l p_l).
    const V* p = n.command.At(command, i);
    V* g = n.command.At(grad_command, i);
    const int64_t width = n.command.widths[i];
    const V mean = Dot(width, static_cast<const V*>(g), p);
    for (int64_t j = 0; j < width; ++j) {
      g[j] = running ? p[j] * (g[j] - mean) : zero;
    }
  }
  for (int64_t m = 0; m < n.step.memory; ++m) {
    Axpy(size, instruction_register[m], static_cast<const V*>(grad_command),
         grad_logits + m * size);
    grad_instruction_register[m] +=
        Dot(size, logits + m * size, static_cast<const V*>(grad_command));
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
    OP_REQUIRES_OK(context, context->GetAttr("trace_memory", &trace_memory_));
    OP_REQUIRES_OK(context, context->GetAttr("trace_errors", &trace_errors_));
  }

  void Compute(OpKernelContext* context) override {
    RunSizes n(0, 1, 0, {0, 0});
    OP_REQUIRES_OK(context,
                   ValidateRunInputs(context, max_steps_, trace_errors_, &n));
    const std::vector<TensorShape> shapes =
        RunOutputShapes(n, trace_memory_, trace_errors_);
    Tensor* outputs[kNumOutputs];
    for (int output = 0; output < kNumOutputs; ++output) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  output, shapes[output], &outputs[output]));
    }
    Tensor packed_logits;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                ::tensorflow::DT_FLOAT,
                                TensorShape({n.restarts, n.logits}),
                                &packed_logits));
    PackLogits(context, n, packed_logits.flat<float>().data());
    if (n.width == 1) {
      Run<float>(context, n, packed_logits.flat<float>().data(), outputs);
    } else {
      Run<Lanes>(context, n, packed_logits.flat<float>().data(), outputs);
    }
  }

 private:
  // Runs every group, n.width = LaneTraits<V>::kWidth examples at a time.
  template <typename V>
  void Run(OpKernelContext* context, const RunSizes& n,
           const float* packed_logits, Tensor* const* outputs) const {
    auto data = [outputs](Output output) {
      return outputs[output]->flat<float>().data();
    };
    V* saved = reinterpret_cast<V*>(data(kSaved));
    float* halting = data(kHaltingProbabilities);
    float* memory_trace = data(kMemoryTrace);
    float* step_errors = data(kStepErrors);
    bool* running = outputs[kRunning]->flat<bool>().data();
    int32_t* steps = outputs[kSteps]->flat<int32_t>().data();
    const V eta_stop = V{} + eta_stop_;

    auto run_groups = [&](int64_t begin, int64_t end) {
      StepScratch<V> scratch(n.step);
      std::vector<V> logits(n.logits), state_data(n.state),
          next_data(n.state);
      for (int64_t g = begin; g < end; ++g) {
        const Group<V> group(n, g);
        const SavedRun<V> run(n, saved, g);
        GatherInitialState(context, n, group, state_data.data());
        GatherLogits(n, group, packed_logits, logits.data());
        const std::unique_ptr<const ErrorTarget<V>> errors =
            trace_errors_ ? std::make_unique<const ErrorTarget<V>>(
                                context, n, group)
                          : nullptr;
        Mask<V> steps_taken = {};
        for (int64_t t = 0; t < n.steps; ++t) {
          if (t % kCheckpointInterval == 0) {
            std::copy(state_data.begin(), state_data.end(),
                      run.Checkpoint(t / kCheckpointInterval));
          }
          const State<V> state = ReadState(n, state_data.data());
          const Mask<V> running_now =
              group.active & LaneTraits<V>::Less(state.halting, eta_stop);
          V* command = run.Record(t);
          V* values = command + n.command.size;
          if (AnyLane<V>(running_now)) {
            ControllerForward(n, logits.data(), state.instruction_register,
                              command);
            ComputeStepValues(n.step, state, n.command.Read<V>(command),
                              &scratch, StepValues<V>(n.step, values));
            ApplyStep(n.step, state, n.command.Read<V>(command),
                      StepValues<const V>(n.step, values),
                      WriteState(n, next_data.data()));
            if (!AllLanes<V>(running_now)) {  // halted lanes stay frozen
              KeepWhere<V>(running_now, n.state, state_data.data(),
                           next_data.data());
            }
            std::swap(state_data, next_data);
          } else {  // all halted: the state stays; nothing reads the record
            std::fill_n(command, n.step_record, V{});
          }
          steps_taken -= running_now;  // true is -1
          const State<V> next = ReadState(n, state_data.data());
          for (int lane = 0; lane < group.count; ++lane) {
            const int64_t slot = (group.first + lane) * n.steps + t;
            halting[slot] = LaneTraits<V>::Get(next.halting, lane);
            running[slot] = LaneTraits<V>::Get(running_now, lane) != 0;
          }
          if (trace_memory_) {
            Scatter(next.memory, n.memory,
                    group.Rows(memory_trace, n.steps * n.memory,
                               t * n.memory));
          }
          if (errors != nullptr) {
            const V error = errors->Error(n, next.memory);
            Scatter(&error, 1, group.Rows(step_errors, n.steps, t));
          }
        }
        const State<V> last = ReadState(n, state_data.data());
        Scatter(last.memory, n.memory, group.Rows(data(kFinalMemory),
                                                  n.memory));
        Scatter(last.registers, n.registers,
                group.Rows(data(kFinalRegisters), n.registers));
        for (int lane = 0; lane < group.count; ++lane) {
          steps[group.first + lane] = LaneTraits<V>::Get(steps_taken, lane);
        }
      }
    };
    ParallelFor(context, n.groups, n.width * GroupCost(n), run_groups);
  }

  int64_t max_steps_;
  float eta_stop_;
  bool trace_memory_;
  bool trace_errors_;
};

// ---------------------------------------------------------------------------
// Gradient op.

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
    // The error target and mask matter only to a step errors' gradient.
    const bool errors = context->input(kGradStepErrors).NumElements() > 0;
    RunSizes n(0, 1, 0, {0, 0});
    OP_REQUIRES_OK(context, ValidateRunInputs(
                                context, running_tensor.dim_size(1), errors,
                                &n));
    const std::vector<TensorShape> forward_shapes =
        RunOutputShapes(n, true, true);
    // The forward outputs and the gradients this op reads; a gradient may be
    // empty, standing for zeros (an output nobody used), and the memory
    // trace's and step errors' are empty when the run kept none.
    struct Expected {
      int input;
      Output output;
      bool may_be_empty;
    };
    for (const Expected& expected : {
             Expected{kForwardRunning, kRunning, false},
             Expected{kForwardSaved, kSaved, false},
             Expected{kGradFinalMemory, kFinalMemory, true},
             Expected{kGradFinalRegisters, kFinalRegisters, true},
             Expected{kGradHaltingProbabilities, kHaltingProbabilities, true},
             Expected{kGradMemoryTrace, kMemoryTrace, true},
             Expected{kGradStepErrors, kStepErrors, true}}) {
      const Tensor& value = context->input(expected.input);
      const TensorShape& shape = forward_shapes[expected.output];
      OP_REQUIRES(
          context,
          value.shape() == shape ||
              (expected.may_be_empty && value.NumElements() == 0),
          absl::InvalidArgumentError(
              std::string(kGradInputNames[expected.input - kNumRunInputs]) +
              " must have shape " + shape.DebugString() +
              (expected.may_be_empty ? " or be empty (zero)" : "") +
              ", got " + value.shape().DebugString()));
    }
    auto gradient_or_null = [context](int input) -> const float* {
      const Tensor& gradient = context->input(input);
      return gradient.NumElements() == 0 ? nullptr
                                         : gradient.flat<float>().data();
    };
    const float* grad_final_memory = gradient_or_null(kGradFinalMemory);
    const float* grad_final_registers = gradient_or_null(kGradFinalRegisters);
    const float* grad_halting = gradient_or_null(kGradHaltingProbabilities);
    const float* grad_memory_trace = gradient_or_null(kGradMemoryTrace);
    const float* grad_step_errors = gradient_or_null(kGradStepErrors);

    const std::vector<TensorShape> input_shapes = RunInputShapes(n);
    Tensor* gradients[kNumInputs];
    for (int input = 0; input < kNumInputs; ++input) {
      OP_REQUIRES_OK(context, context->allocate_output(
                                  input, input_shapes[input],
                                  &gradients[input]));
    }
    Tensor packed_logits;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                ::tensorflow::DT_FLOAT,
                                TensorShape({n.restarts, n.logits}),
                                &packed_logits));
    PackLogits(context, n, packed_logits.flat<float>().data());
    // Each example's gradient of its restart's logits, summed afterwards:
    // threads never write to the same logits.
    Tensor example_grad_logits;
    OP_REQUIRES_OK(context, context->allocate_temp(
                                ::tensorflow::DT_FLOAT,
                                TensorShape({n.batch, n.logits}),
                                &example_grad_logits));
    auto gradient = [&gradients](int input) {
      return gradients[input]->flat<float>().data();
    };
    const Sources sources{packed_logits.flat<float>().data(),
                          running_tensor.flat<bool>().data(),
                          grad_final_memory,
                          grad_final_registers,
                          grad_halting,
                          grad_memory_trace,
                          grad_step_errors,
                          gradients,
                          example_grad_logits.flat<float>().data()};
    if (n.width == 1) {
      Differentiate<float>(context, n, sources);
    } else {
      Differentiate<Lanes>(context, n, sources);
    }

    // Each restart's logits gradient: its examples' sum, unpacked.
    const int64_t examples_per_restart = n.batch / n.restarts;
    std::vector<float> restart_gradient(n.logits);
    for (int64_t k = 0; k < n.restarts; ++k) {
      std::fill(restart_gradient.begin(), restart_gradient.end(), 0.0f);
      for (int64_t b = k * examples_per_restart;
           b < (k + 1) * examples_per_restart; ++b) {
        Axpy(n.logits, 1.0f,
             example_grad_logits.flat<float>().data() + b * n.logits,
             restart_gradient.data());
      }
      for (int i = 0; i < kNumDistributions; ++i) {
        const int64_t width = n.command.widths[i];
        float* grad =
            gradient(kInstructionLogits + i) + k * n.step.memory * width;
        for (int64_t m = 0; m < n.step.memory; ++m) {
          std::copy_n(restart_gradient.data() + m * n.command.size +
                          n.command.offsets[i],
                      width, grad + m * width);
        }
      }
    }
  }

 private:
  // What Differentiate reads and where it writes.
  struct Sources {
    const float* packed_logits;  // PackLogits
    const bool* running;         // the forward op's running
    // The output gradients, or null where absent (zero).
    const float* grad_final_memory;
    const float* grad_final_registers;
    const float* grad_halting;
    const float* grad_memory_trace;
    const float* grad_step_errors;
    Tensor* const* gradients;    // the op's eight outputs
    float* example_grad_logits;  // [B, M * N]: each example's
  };

  // Differentiates every group, n.width = LaneTraits<V>::kWidth examples at
  // a time: all gradients but the logits', which it leaves per example.
  template <typename V>
  void Differentiate(OpKernelContext* context, const RunSizes& n,
                     const Sources& sources) const {
    const V* saved = reinterpret_cast<const V*>(
        context->input(kForwardSaved).flat<float>().data());
    const bool* running = sources.running;
    const float* grad_final_memory = sources.grad_final_memory;
    const float* grad_final_registers = sources.grad_final_registers;
    const float* grad_halting = sources.grad_halting;
    const float* grad_memory_trace = sources.grad_memory_trace;
    const float* grad_step_errors = sources.grad_step_errors;
    auto gradient = [&sources](int input) {
      return sources.gradients[input]->flat<float>().data();
    };

    auto differentiate_groups = [&](int64_t begin, int64_t end) {
      StepScratch<V> scratch(n.step);
      std::vector<V> logits(n.logits), grad_logits(n.logits),
          grad_command(n.command.size);
      // The states before the steps from a checkpoint to the next one, and
      // after the last of them (the step errors' gradient reads the states
      // after each step).
      std::vector<V> segment((kCheckpointInterval + 1) * n.state);
      // The gradients with respect to the state after the step being undone
      // and before it; swapped after each step.
      std::vector<V> after(n.state), before(n.state);
      for (int64_t g = begin; g < end; ++g) {
        const Group<V> group(n, g);
        const SavedRun<const V> run(n, saved, g);
        GatherLogits(n, group, sources.packed_logits, logits.data());
        const std::unique_ptr<const ErrorTarget<V>> errors =
            grad_step_errors != nullptr
                ? std::make_unique<const ErrorTarget<V>>(context, n, group)
                : nullptr;
        std::fill(grad_logits.begin(), grad_logits.end(), V{});
        std::fill(after.begin(), after.end(), V{});
        MutableState<V> grad = WriteState(n, after.data());
        if (grad_final_memory != nullptr) {
          AddGathered(group.Rows(grad_final_memory, n.memory), n.memory,
                      grad.memory);
        }
        if (grad_final_registers != nullptr) {
          AddGathered(group.Rows(grad_final_registers, n.registers),
                      n.registers, grad.registers);
        }
        auto running_at = [&](int64_t t) {
          Mask<V> lanes = {};
          for (int lane = 0; lane < group.count; ++lane) {
            LaneTraits<V>::Set(
                lanes, lane,
                running[(group.first + lane) * n.steps + t] ? -1 : 0);
          }
          return lanes;
        };
        for (int64_t checkpoint = n.checkpoints - 1; checkpoint >= 0;
             --checkpoint) {
          // Replays the forward pass from the checkpoint: segment holds the
          // state before each step t in [first, last), and after step
          // last - 1 too when there are step errors.
          const int64_t first = checkpoint * kCheckpointInterval;
          const int64_t last = std::min(n.steps, first + kCheckpointInterval);
          const int64_t replayed = errors != nullptr ? last : last - 1;
          std::copy_n(run.Checkpoint(checkpoint), n.state, segment.data());
          for (int64_t t = first; t < replayed; ++t) {
            const V* state_data = &segment[(t - first) * n.state];
            V* next_data = &segment[(t + 1 - first) * n.state];
            const Mask<V> running_now = running_at(t);
            if (AnyLane<V>(running_now)) {
              const V* command = run.Record(t);
              ApplyStep(n.step, ReadState(n, state_data),
                        n.command.Read<V>(command),
                        StepValues<const V>(n.step,
                                                command + n.command.size),
                        WriteState(n, next_data));
              if (!AllLanes<V>(running_now)) {
                KeepWhere<V>(running_now, n.state, state_data, next_data);
              }
            } else {
              std::copy_n(state_data, n.state, next_data);
            }
          }
          for (int64_t t = last - 1; t >= first; --t) {
            grad = WriteState(n, after.data());
            if (grad_halting != nullptr) {
              AddGathered(group.Rows(grad_halting, n.steps, t), 1,
                          grad.halting);
            }
            if (grad_memory_trace != nullptr) {
              AddGathered(group.Rows(grad_memory_trace, n.steps * n.memory,
                                     t * n.memory),
                          n.memory, grad.memory);
            }
            if (errors != nullptr) {
              V grad_error = {};
              AddGathered(group.Rows(grad_step_errors, n.steps, t), 1,
                          &grad_error);
              errors->AddGradient(
                  n, grad_error,
                  ReadState(n, &segment[(t + 1 - first) * n.state]).memory,
                  grad.memory);
            }
            const Mask<V> running_now = running_at(t);
            if (!AnyLane<V>(running_now)) continue;  // the gradient passes
            const State<V> state =
                ReadState(n, &segment[(t - first) * n.state]);
            const V* command = run.Record(t);
            StepBackward(n.step, state, n.command.Read<V>(command),
                         StepValues<const V>(n.step,
                                                 command + n.command.size),
                         ReadState(n, after.data()), &scratch,
                         WriteState(n, before.data()),
                         n.command.Write<V>(grad_command.data()));
            ControllerBackward(
                n, logits.data(), state.instruction_register, command,
                running_now, grad_command.data(), grad_logits.data(),
                WriteState(n, before.data()).instruction_register);
            if (!AllLanes<V>(running_now)) {  // halted lanes: gradient passes
              KeepWhere<V>(running_now, n.state, after.data(), before.data());
            }
            std::swap(after, before);
          }
        }
        const State<V> initial_gradient = ReadState(n, after.data());
        Scatter(initial_gradient.memory, n.memory,
                group.Rows(gradient(kMemory), n.memory));
        Scatter(initial_gradient.registers, n.registers,
                group.Rows(gradient(kRegisters), n.registers));
        Scatter(initial_gradient.instruction_register, n.step.memory,
                group.Rows(gradient(kInstructionRegister), n.step.memory));
        Scatter(&after[n.state - 1], 1, group.Rows(gradient(kHalting), 1));
        Scatter(grad_logits.data(), n.logits,
                group.Rows(sources.example_grad_logits, n.logits));
      }
    };
    ParallelFor(context, n.groups, 2 * n.width * GroupCost(n),
                differentiate_groups);
  }

  static constexpr const char* kGradInputNames[kNumGradInputs -
                                               kNumRunInputs] = {
      "running", "saved", "gradient of final_memory",
      "gradient of final_registers", "gradient of halting_probabilities",
      "gradient of memory_trace", "gradient of step_errors"};
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
    .Input("error_target: float")
    .Input("error_mask: float")
    .Attr("max_steps: int >= 1")
    .Attr("eta_stop: float")
    .Attr("trace_memory: bool = false")
    .Attr("trace_errors: bool = false")
    .Output("final_memory: float")
    .Output("final_registers: float")
    .Output("halting_probabilities: float")
    .Output("running: bool")
    .Output("steps: int32")
    .Output("memory_trace: float")
    .Output("step_errors: float")
    .Output("saved: float")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle batch, memory_size, num_registers;
      TF_RETURN_IF_ERROR(
          InferRunInputShapes(c, &batch, &memory_size, &num_registers));
      int64_t max_steps;
      bool trace_memory, trace_errors;
      TF_RETURN_IF_ERROR(c->GetAttr("max_steps", &max_steps));
      TF_RETURN_IF_ERROR(c->GetAttr("trace_memory", &trace_memory));
      TF_RETURN_IF_ERROR(c->GetAttr("trace_errors", &trace_errors));
      if (trace_errors) {
        ShapeHandle unused;
        TF_RETURN_IF_ERROR(c->Merge(
            c->input(kErrorTarget),
            c->MakeShape({batch, memory_size, memory_size}), &unused));
        TF_RETURN_IF_ERROR(c->Merge(c->input(kErrorMask),
                                    c->MakeShape({batch, memory_size}),
                                    &unused));
      }
      const DimensionHandle steps = c->MakeDim(max_steps);
      DimensionHandle groups = c->UnknownDim(), saved_group = c->UnknownDim(),
                      width = c->UnknownDim();
      if (c->ValueKnown(batch) && c->ValueKnown(memory_size) &&
          c->ValueKnown(num_registers)) {
        const RunSizes n(c->Value(batch), 1, max_steps,
                         {c->Value(memory_size), c->Value(num_registers)});
        groups = c->MakeDim(n.groups);
        saved_group = c->MakeDim(n.saved_group);
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
      c->set_output(kSaved, c->MakeShape({groups, saved_group, width}));
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
error_target, error_mask: [B, M, M] and [B, M] with trace_errors, else
  ignored (pass empty tensors).
memory_trace: [B, T, M, M], the memory after each step (a halted example's
  repeats); [B, 0, M, M] unless trace_memory.
step_errors: [B, T], the error of the memory after each step,
  sum_i error_mask[i] sum_c (memory[i, c] - error_target[i, c])^2 (the
  confidence loss's); [B, 0] unless trace_errors.
saved: what AncMachineRunGrad reads, by groups of examples (16 with
  AVX-512, 8 with AVX, else 4; 1 for a batch under half that): the state
  every 8 steps and what each step computed on the way; no gradient.
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
    .Input("error_target: float")
    .Input("error_mask: float")
    .Input("running: bool")
    .Input("saved: float")
    .Input("grad_final_memory: float")
    .Input("grad_final_registers: float")
    .Input("grad_halting_probabilities: float")
    .Input("grad_memory_trace: float")
    .Input("grad_step_errors: float")
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
      return absl::OkStatus();
    })
    .Doc(R"doc(
The gradient of AncMachineRun with respect to its first eight inputs (the
error target and mask have none), from the forward op's inputs, its running
and saved outputs and the gradients of its final_memory, final_registers,
halting_probabilities, memory_trace and step_errors. An empty gradient (e.g.
shape [0]) stands for zeros: an output nobody used.
)doc");

REGISTER_KERNEL_BUILDER(
    Name("AncMachineRun").Device(::tensorflow::DEVICE_CPU), AncMachineRunOp);
REGISTER_KERNEL_BUILDER(
    Name("AncMachineRunGrad").Device(::tensorflow::DEVICE_CPU),
    AncMachineRunGradOp);

}  // namespace tf_anc
