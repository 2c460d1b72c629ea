// A whole run of the differentiable machine as two fused CPU ops:
// `AncMachineRun` executes up to T = max_steps steps, the controller and the
// halting mask included, and `AncMachineRunGrad` is its hand-derived
// backward pass. The reference is tf_anc/machine/soft_machine.py's plain-TF
// loop; tests/test_fused_run.py holds both to the same values and gradients.
//
// Per example, a step is: the controller's four softmaxes over
// `instruction_register @ logits` (the logits of the example's restart;
// controller.cc), then the machine step (step_arithmetic.cc), applied only
// while the example's halting probability is below eta_stop; a halted
// example keeps its state. Examples are independent: the batch runs in
// groups of kLanes examples, one per SIMD lane (padded with idle lanes), so
// that every operation is a vector operation whatever M is; the groups are
// split over TF's CPU thread pool and each runs all T steps with no
// synchronisation. The forward op (machine_run_forward.cc) keeps what each
// step computed on the way and the state every few steps (`saved`, in
// lanes); the backward pass (machine_run_gradient.cc) recomputes the states
// in between from those, cheaply, rather than the whole steps.
//
// This header is what those files and the ops' registrations
// (machine_run.cc) share: the ops' inputs and outputs, a run's sizes, the
// layout of the saved run, and a group of examples in lanes.

#ifndef TF_ANC_OPS_MACHINE_RUN_H_
#define TF_ANC_OPS_MACHINE_RUN_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "step_arithmetic.h"
#include "vector_ops.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor_shape.h"

namespace tf_anc {

// The run's inputs, in op order: the initial state, then the logits of the
// four command distributions (the kNumInputs that have gradients), then
// the target of the per-step errors and its mask (empty unless
// trace_errors).
enum RunInput {
  kMemory, kRegisters, kInstructionRegister, kHalting, kInstructionLogits,
  kFirstArgumentLogits, kSecondArgumentLogits, kOutputLogits, kNumInputs,
  kErrorTarget = kNumInputs, kErrorMask, kNumRunInputs
};
constexpr int kNumDistributions = 4;

// The forward op's outputs, in op order.
enum RunOutput {
  kFinalMemory, kFinalRegisters, kHaltingProbabilities, kRunning, kSteps,
  kMemoryTrace, kStepErrors, kSaved, kNumOutputs
};
// The gradient op's inputs after the forward op's ten: two forward
// outputs, then the gradients of the five float outputs other than saved.
enum RunGradInput {
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
inline int64_t GroupWidth(int64_t batch) {
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

// Rough cycles of a group's run: T steps and their controllers.
inline int64_t GroupCost(const RunSizes& n) {
  return n.steps * (StepCost(n.step) + 4 * n.logits);
}

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

// The shapes of the ten inputs (with trace_errors) and of the eight
// outputs of a run.
std::vector<::tensorflow::TensorShape> RunInputShapes(const RunSizes& n);
std::vector<::tensorflow::TensorShape> RunOutputShapes(const RunSizes& n,
                                                       bool trace_memory,
                                                       bool trace_errors);

// Validates the run inputs at run time (shape functions only see static
// shapes), the error target and mask only with `trace_errors`; reads B, K,
// M and R from them.
absl::Status ValidateRunInputs(::tensorflow::OpKernelContext* context,
                               int64_t steps, bool trace_errors,
                               RunSizes* sizes);

// The examples [first, first + count) of a group, example first + l in lane
// l; lanes from count on are idle. V is Lanes or float (a group of one).
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

  // Per lane, the start of its example's `size` values in the op's input
  // `input` ([B, size]).
  std::vector<const float*> InputRows(::tensorflow::OpKernelContext* context,
                                      int input, int64_t size) const {
    return Rows(context->input(input).flat<float>().data(), size);
  }

  int64_t first;
  int count;
  Mask<V> active;  // the lanes that hold an example
};

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

}  // namespace tf_anc

#endif  // TF_ANC_OPS_MACHINE_RUN_H_
